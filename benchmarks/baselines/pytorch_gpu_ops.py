#!/usr/bin/env python3
"""PyTorch CUDA baseline for asn-bench's CUDA op entries: the same shapes (benchmarks/shapes/
conv3d.json and ops.json), the same names with "_cuda" (conv3d/<case>_cuda/fwd, bn_relu/<case>_cuda/
fwdbwd, ...), the same JSON-line fields, on the same card, so `compare.py` lines the rows up.

PyTorch runs channels_last_3d tensors (the bytes of asn's (N, T, H, W, C)) through cuDNN with TF32
off (torch.backends.cudnn.allow_tf32 = False, matmul too), as asn runs by default. BN is
F.batch_norm in training mode followed by ReLU (PyTorch eager does not fuse them); the fusion and
representation-flow baselines are pytorch_fusion.py and pytorch_rep_flow.py.

  python3 benchmarks/baselines/pytorch_gpu_ops.py --json gpu.jsonl
"""

import argparse
import datetime
import json
import os
import re
import socket
import statistics
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pytorch_cpu_ops as cpu_ops  # noqa: E402  (the case construction, shared)


def cuda_time(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ms = []
    for _ in range(repeats):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ms.append(a.elapsed_time(b))
    return statistics.median(ms), min(ms)


def conv_cases():
    for name, group, build in cpu_ops.conv3d_cases("cuda"):
        shape, fwd, fwdbwd = build("channels_last")
        yield f"{name}_cuda", group, shape, fwd, fwdbwd


def op_cases(dev):
    """bn_relu, max_pool and dense: pytorch_cpu_ops.op_cases built on `dev` in channels_last_3d."""
    for name, group, build in cpu_ops.op_cases(dev):
        shape, fwd, fwdbwd = build("channels_last")
        yield f"{name}_cuda", group, shape, fwd, fwdbwd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter", default="")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    rx = re.compile(args.filter)
    lines = []

    def run(name, group, shape, spec, pass_name):
        flops, nbytes, fn = spec
        full = f"{name}/{pass_name}"
        if not rx.search(full):
            return
        med, mn = cuda_time(fn, args.warmup, args.repeats)
        rec = {"name": full, "group": group, "impl": "pytorch-cuda " + torch.__version__, "device": "cuda",
               "gpu": torch.cuda.get_device_name(), "shape": shape, "dtype": "f32", "median_ms": med, "min_ms": mn,
               "gflops": flops / (med * 1e-3) * 1e-9, "gbps": nbytes / (med * 1e-3) * 1e-9,
               "repeats": args.repeats, "warmup": args.warmup,
               "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "host": socket.gethostname()}
        lines.append(json.dumps(rec))
        print(f"{full:<44} {med:10.3f} ms  {rec['gflops']:9.1f} GFLOP/s {rec['gbps']:8.1f} GB/s", flush=True)

    for name, group, shape, fwd, fwdbwd in conv_cases():
        run(name, group, shape, fwd, "fwd")
        run(name, group, shape, fwdbwd, "fwdbwd")
    for name, group, shape, fwd, fwdbwd in op_cases(dev):
        run(name, group, shape, fwd, "fwd")
        run(name, group, shape, fwdbwd, "fwdbwd")
    print()
    for line in lines:
        print(line)
    if args.json:
        with open(args.json, "a") as f:
            for line in lines:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
