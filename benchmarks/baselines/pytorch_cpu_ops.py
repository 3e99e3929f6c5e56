#!/usr/bin/env python3
"""PyTorch CPU baseline for asn-bench: the same ops on the same shapes, the same JSON lines.

Runs every case of benchmarks/shapes/<op>.json on the CPU with torch.set_num_threads(--threads),
once with oneDNN (torch.backends.mkldnn enabled, PyTorch's default, impl "pytorch-onednn") and
once on PyTorch's native kernels (mkldnn disabled, impl "pytorch-native"), forward ("fwd") and
forward + backward ("fwdbwd"), and prints one JSON line per (benchmark, impl) in asn-bench's format
(keys name, group, impl, device, threads, shape, dtype, median_ms, min_ms, gflops, gbps, repeats,
warmup, clock, date, host, cpu, plus torch and layout). Names match asn-bench's, so rows line up.

  python3 benchmarks/baselines/pytorch_cpu_ops.py --threads 2 --json results.jsonl
  python3 benchmarks/baselines/pytorch_cpu_ops.py --filter 'dense_3x3x3' --impl onednn

Layout: PyTorch convolutions take (N, C, T, H, W) tensors and (Cout, Cin, kT, kH, kW) kernels. The
memory format is --layout: "channels_last" (torch.channels_last_3d, i.e. the same bytes as asn's
(N, T, H, W, C)) or "ncdhw" (contiguous). Default "best": channels_last for oneDNN and ncdhw for the
native path, each the faster one for that path on the machine it was measured on (see
docs/benchmarks.md); pass a layout to time both.

Adding an op: write a make_<op>(case, impl_args) returning (shape_text, flops, bytes, fwd, fwdbwd)
like make_conv3d below and add it to OPS with the name of its shape file.
"""

import argparse
import datetime
import json
import os
import platform
import re
import socket
import statistics
import sys
import time
import warnings

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES_DIR = os.path.join(HERE, "..", "shapes")


# ------------------------------------------------------------------------------------------------
# Padding rules of the reference (TF), per axis; identical to kernels/common/padding.h.

def same_pad(n, k, s, d):
    out = (n + s - 1) // s
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def fixed_pad(n, k, s, d):
    if s == 1:
        return same_pad(n, k, s, d)
    ext = (k - 1) * d + 1
    return (ext - 1) // 2, (ext - 1) - (ext - 1) // 2


def pads_of(case):
    rule = case["padding"]
    x, w = case["x"], case["w"]
    out = []
    for a in range(3):
        n, k, s, d = x[1 + a], w[1 + a], case["stride"][a], case["dilation"][a]
        if rule == "same":
            out.append(same_pad(n, k, s, d))
        elif rule == "fixed":
            out.append(fixed_pad(n, k, s, d))
        elif rule == "valid":
            out.append((0, 0))
        else:
            raise ValueError(f"case {case['name']}: unknown padding {rule!r}")
    return out


# ------------------------------------------------------------------------------------------------
# conv3d

def make_conv3d(case, layout, device="cpu"):
    """Returns (shape text, flops of fwd, flops of fwdbwd, bytes of fwd, bytes of fwdbwd,
    fwd, fwdbwd). Tensors are drawn on the CPU (same values everywhere) and moved to `device`."""
    n, t, h, w_, cin = case["x"]
    cout, kt, kh, kw, _ = case["w"]
    stride, dilation = tuple(case["stride"]), tuple(case["dilation"])
    pads = pads_of(case)
    symmetric = all(b == a for b, a in pads)
    input_grad = case.get("input_grad", True)

    fmt = torch.channels_last_3d if layout == "channels_last" else torch.contiguous_format
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(n, cin, t, h, w_, generator=g) * 2 - 1).to(device=device, memory_format=fmt)
    wt = (torch.rand(cout, cin, kt, kh, kw, generator=g) * 2 - 1).to(device=device, memory_format=fmt)

    def conv(xx, ww):
        if symmetric:
            return F.conv3d(xx, ww, stride=stride, dilation=dilation,
                            padding=tuple(p[0] for p in pads))
        # asymmetric (TF SAME with the extra pad after): explicit pad, then VALID
        flat = []
        for before, after in reversed(pads):  # F.pad wants the last axis (W) first
            flat += [before, after]
        return F.conv3d(F.pad(xx, flat), ww, stride=stride, dilation=dilation)

    with torch.no_grad():
        y_shape = conv(x, wt).shape
    dy = (torch.rand(*y_shape, generator=g) * 2 - 1).to(device=device, memory_format=fmt)
    to, ho, wo = y_shape[2], y_shape[3], y_shape[4]
    macs = n * to * ho * wo * cout * kt * kh * kw * cin
    nx, nw, ny = x.numel(), wt.numel(), dy.numel()
    flops_fwd = 2 * macs
    flops_fwdbwd = 2 * macs * (3 if input_grad else 2)
    bytes_fwd = 4 * (nx + nw + ny)
    bytes_fwdbwd = 4 * ((nx + nw + ny) + ((ny + nw + nx) if input_grad else 0) + (nx + ny + nw))

    def fwd():
        with torch.no_grad():
            conv(x, wt)

    xg = x.detach().clone().requires_grad_(input_grad)
    wg = wt.detach().clone().requires_grad_(True)

    def fwdbwd():
        xg.grad = None
        wg.grad = None
        conv(xg, wg).backward(dy)

    shape = (f"x ({n}, {t}, {h}, {w_}, {cin}) w ({cout}, {kt}, {kh}, {kw}, {cin}) -> "
             f"y ({n}, {to}, {ho}, {wo}, {cout}), stride {stride}, dilation {dilation}, "
             f"pad ({', '.join(f'{b}/{a}' for b, a in pads)})")
    if not input_grad:
        shape += ", no input gradient"
    return shape, flops_fwd, flops_fwdbwd, bytes_fwd, bytes_fwdbwd, fwd, fwdbwd


# op name -> (shape file, factory)
OPS = {
    "conv3d": ("conv3d.json", make_conv3d),
}

BEST_LAYOUT = {"onednn": "channels_last", "native": "ncdhw"}


# ------------------------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_it(fn, warmup, repeats, clock):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        ms.append((clock() - t0) * 1e3)
    return statistics.median(ms), min(ms)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter", default="", help="regex searched in the benchmark name")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", default="", help="append the JSON lines to this file")
    ap.add_argument("--impl", choices=["onednn", "native", "both"], default="both")
    ap.add_argument("--layout", choices=["best", "channels_last", "ncdhw"], default="best")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall, or cpu: process CPU time, all threads summed (steadier on a busy "
                         "machine; comparable to wall time only at --threads 1)")
    ap.add_argument("--list", action="store_true", help="print the benchmark names and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    # torch.backends.mkldnn.flags() warns about TF32 on Intel GPUs; irrelevant on the CPU.
    warnings.filterwarnings("ignore", message=".*TF32 acceleration.*")
    pattern = re.compile(args.filter)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    impls = ["onednn", "native"] if args.impl == "both" else [args.impl]
    host, cpu = socket.gethostname(), cpu_model()
    out = open(args.json, "a") if args.json else None

    if not args.list:
        print(f"{'benchmark':<42} {'impl':<15} {'layout':<13} {'median ms':>10} {'min ms':>10} "
              f"{'GFLOP/s':>9} {'GB/s':>8}", file=sys.stderr)
    for op, (shape_file, factory) in OPS.items():
        with open(os.path.join(SHAPES_DIR, shape_file)) as f:
            cases = json.load(f)["cases"]
        for case in cases:
            for pass_name in ("fwd", "fwdbwd"):
                name = f"{op}/{case['name']}/{pass_name}"
                if not pattern.search(name):
                    continue
                if args.list:
                    print(name)
                    continue
                for impl in impls:
                    layout = BEST_LAYOUT[impl] if args.layout == "best" else args.layout
                    shape, ff, fb, bf, bb, fwd, fwdbwd = factory(case, layout)
                    fn, flops, nbytes = (fwd, ff, bf) if pass_name == "fwd" else (fwdbwd, fb, bb)
                    with torch.backends.mkldnn.flags(enabled=(impl == "onednn")):
                        median, best = time_it(fn, args.warmup, args.repeats, clock)
                    row = {
                        "name": name, "group": op, "impl": f"pytorch-{impl}", "device": "cpu",
                        "threads": args.threads, "shape": shape, "dtype": "f32",
                        "median_ms": median, "min_ms": best,
                        "gflops": flops / (median * 1e-3) * 1e-9,
                        "gbps": nbytes / (median * 1e-3) * 1e-9,
                        "repeats": args.repeats, "warmup": args.warmup, "clock": args.clock,
                        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"),
                        "host": host, "cpu": cpu, "torch": torch.__version__, "layout": layout,
                    }
                    print(f"{name:<42} {row['impl']:<15} {layout:<13} {median:>10.3f} "
                          f"{best:>10.3f} {row['gflops']:>9.1f} {row['gbps']:>8.2f}",
                          file=sys.stderr)
                    line = json.dumps(row)
                    print(line, flush=True)
                    if out:
                        out.write(line + "\n")
                        out.flush()
    if out:
        out.close()


if __name__ == "__main__":
    main()
