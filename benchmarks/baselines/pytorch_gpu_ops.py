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
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pytorch_cpu_ops as cpu_ops  # noqa: E402  (conv3d case construction and padding rules)

SHAPES = os.path.join(HERE, "..", "shapes")


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
    with open(os.path.join(SHAPES, "conv3d.json")) as f:
        for case in json.load(f)["cases"]:
            shape, ff, fb, bf, bb, fwd, fwdbwd = cpu_ops.make_conv3d(case, "channels_last", "cuda")
            yield f"conv3d/{case['name']}_cuda", "conv3d", shape, (ff, bf, fwd), (fb, bb, fwdbwd)


def op_cases(dev):
    with open(os.path.join(SHAPES, "ops.json")) as f:
        ops = json.load(f)
    for c in ops["bn_relu"]:
        n, t, h, w, ch = c["x"]
        x = torch.rand(n, ch, t, h, w, device=dev).to(memory_format=torch.channels_last_3d) * 2 - 1
        gamma = torch.rand(ch, device=dev) + 0.5
        beta = torch.rand(ch, device=dev) - 0.5
        rm, rv = torch.zeros(ch, device=dev), torch.ones(ch, device=dev)
        dy = torch.rand_like(x)
        xg, gg, bg = x.clone().requires_grad_(), gamma.clone().requires_grad_(), beta.clone().requires_grad_()

        def fwd(x=x, gamma=gamma, beta=beta, rm=rm, rv=rv):
            with torch.no_grad():
                F.relu(F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.01, eps=1e-5))

        def fwdbwd(xg=xg, gg=gg, bg=bg, rm=rm, rv=rv, dy=dy):
            xg.grad = gg.grad = bg.grad = None
            F.relu(F.batch_norm(xg, rm, rv, gg, bg, training=True, momentum=0.01, eps=1e-5)).backward(dy)

        nel = x.numel()
        yield (f"bn_relu/{c['name']}_cuda", "bn_relu", f"x {tuple(c['x'])} (training mode, ReLU)",
               (nel * 6, 4.0 * nel * 2, fwd), (nel * 14, 4.0 * nel * 5, fwdbwd))
    for c in ops["max_pool"]:
        n, t, h, w, ch = c["x"]
        k, s = c["kernel"], c["stride"]
        x = torch.rand(n, ch, t, h, w, device=dev).to(memory_format=torch.channels_last_3d)
        pads = [cpu_ops.same_pad(dim, kk, ss, 1) for dim, kk, ss in zip((t, h, w), k, s)]
        flat = []
        for b, a in reversed(pads):
            flat += [b, a]

        def pool(xx, k=k, s=s, flat=flat):
            return F.max_pool3d(F.pad(xx, flat, value=float("-inf")), kernel_size=k, stride=s)

        with torch.no_grad():
            ys = pool(x).shape
        dy = torch.rand(*ys, device=dev).to(memory_format=torch.channels_last_3d)
        xg = x.clone().requires_grad_()

        def fwd(x=x, pool=pool):
            with torch.no_grad():
                pool(x)

        def fwdbwd(xg=xg, pool=pool, dy=dy):
            xg.grad = None
            pool(xg).backward(dy)

        ny = 1
        for d in ys:
            ny *= d
        kk = k[0] * k[1] * k[2]
        yield (f"max_pool/{c['name']}_cuda", "max_pool", f"x {tuple(c['x'])} kernel {k} stride {s} SAME",
               (ny * kk, 4.0 * (x.numel() + ny), fwd), (ny * kk, 8.0 * (x.numel() + ny), fwdbwd))
    for c in ops["dense"]:
        m, kin = c["x"]
        kout = c["w"][0]
        x = torch.rand(m, kin, device=dev) * 2 - 1
        w = torch.rand(kout, kin, device=dev) * 2 - 1
        b = torch.rand(kout, device=dev)
        dy = torch.rand(m, kout, device=dev)
        xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()

        def fwd(x=x, w=w, b=b):
            with torch.no_grad():
                F.linear(x, w, b)

        def fwdbwd(xg=xg, wg=wg, bg=bg, dy=dy):
            xg.grad = wg.grad = bg.grad = None
            F.linear(xg, wg, bg).backward(dy)

        fl = 2.0 * m * kin * kout
        by = 4.0 * (m * kin + kin * kout + m * kout)
        yield (f"dense/{c['name']}_cuda", "dense", f"x ({m}, {kin}) w ({kout}, {kin}) + bias",
               (fl, by, fwd), (3 * fl, 3 * by, fwdbwd))


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
