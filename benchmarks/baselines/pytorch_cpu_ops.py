#!/usr/bin/env python3
"""PyTorch CPU baseline for asn-bench: the same ops on the same shapes, the same JSON lines.

Runs every case of benchmarks/shapes/conv3d.json and ops.json (see Ops below) on the CPU with
torch.set_num_threads(--threads), once with oneDNN (torch.backends.mkldnn enabled, PyTorch's
default, impl "pytorch-onednn") and once on PyTorch's native kernels (mkldnn disabled, impl
"pytorch-native"), forward ("fwd") and forward + backward ("fwdbwd"), and prints one JSON line per (benchmark, impl) in asn-bench's format
(keys name, group, impl, device, threads, shape, dtype, median_ms, min_ms, gflops, gbps, repeats,
warmup, clock, date, host, cpu, plus torch and layout). Names match asn-bench's, so rows line up.

  python3 benchmarks/baselines/pytorch_cpu_ops.py --threads 2 --json results.jsonl
  python3 benchmarks/baselines/pytorch_cpu_ops.py --filter 'dense_3x3x3' --impl onednn

Layout: PyTorch convolutions take (N, C, T, H, W) tensors and (Cout, Cin, kT, kH, kW) kernels. The
memory format is --layout: "channels_last" (torch.channels_last_3d, i.e. the same bytes as asn's
(N, T, H, W, C)) or "ncdhw" (contiguous). Default "best": for conv3d channels_last for oneDNN and
ncdhw for the native path, for the other ops channels_last on both, each the faster one on the
machine it was measured on (see BEST_LAYOUT and docs/benchmarks.md); pass a layout to force one.

Ops: conv3d (benchmarks/shapes/conv3d.json) and the bn_relu, max_pool and dense groups of
benchmarks/shapes/ops.json (op_cases below, shared with pytorch_gpu_ops.py, which builds the same
cases on the GPU and appends "_cuda" to the case names). BN is F.batch_norm in training mode
followed by ReLU (PyTorch eager does not fuse them); max-pool pads TF SAME explicitly with -inf;
dense is F.linear with a bias. rep_flow has its own script (pytorch_rep_flow.py).

Adding an op: add a builder to op_cases (or a make_<op> like make_conv3d) returning
(shape text, (flops, bytes, fwd), (flops, bytes, fwdbwd)) and yield it under asn-bench's name.
"""

import argparse
import datetime
import json
import os
import re
import socket
import statistics
import sys
import time
import warnings

import torch
import torch.nn.functional as F
from bench_common import cpu_model  # noqa: E402

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


# ------------------------------------------------------------------------------------------------
# bn_relu, max_pool, dense (benchmarks/shapes/ops.json), shared with pytorch_gpu_ops.py

def _memory_format(layout):
    return torch.channels_last_3d if layout == "channels_last" else torch.contiguous_format


def _uniform(shape, g, lo, hi, device, layout=None):
    t = torch.rand(*shape, generator=g) * (hi - lo) + lo
    if layout is None:
        return t.to(device=device)
    return t.to(device=device, memory_format=_memory_format(layout))


def make_bn_relu(c, layout, device):
    """BN (training mode) + ReLU on x (N, C, T, H, W); flops and bytes as asn-bench counts them."""
    n, t, h, w, ch = c["x"]
    g = torch.Generator().manual_seed(1)
    x = _uniform((n, ch, t, h, w), g, -1, 1, device, layout)
    gamma = _uniform((ch,), g, 0.5, 1.5, device)
    beta = _uniform((ch,), g, -0.5, 0.5, device)
    rm, rv = torch.zeros(ch, device=device), torch.ones(ch, device=device)
    dy = _uniform((n, ch, t, h, w), g, -1, 1, device, layout)
    xg, gg, bg = (v.clone().requires_grad_() for v in (x, gamma, beta))

    def fwd():
        with torch.no_grad():
            F.relu(F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.01, eps=1e-5))

    def fwdbwd():
        xg.grad = gg.grad = bg.grad = None
        y = F.relu(F.batch_norm(xg, rm, rv, gg, bg, training=True, momentum=0.01, eps=1e-5))
        y.backward(dy)

    nel = x.numel()
    shape = f"x {tuple(c['x'])} (training mode, ReLU)"
    return shape, (nel * 6, 4.0 * nel * 2, fwd), (nel * 14, 4.0 * nel * 5, fwdbwd)


def make_max_pool(c, layout, device):
    """TF SAME max-pool (explicit -inf padding, then VALID) on x (N, C, T, H, W)."""
    n, t, h, w, ch = c["x"]
    k, s = c["kernel"], c["stride"]
    g = torch.Generator().manual_seed(2)
    x = _uniform((n, ch, t, h, w), g, 0, 1, device, layout)
    pads = [same_pad(dim, kk, ss, 1) for dim, kk, ss in zip((t, h, w), k, s)]
    flat = []
    for before, after in reversed(pads):  # F.pad wants the last axis (W) first
        flat += [before, after]

    def pool(xx):
        return F.max_pool3d(F.pad(xx, flat, value=float("-inf")), kernel_size=k, stride=s)

    with torch.no_grad():
        ys = pool(x).shape
    dy = _uniform(tuple(ys), g, 0, 1, device, layout)
    xg = x.clone().requires_grad_()

    def fwd():
        with torch.no_grad():
            pool(x)

    def fwdbwd():
        xg.grad = None
        pool(xg).backward(dy)

    ny = 1
    for d in ys:
        ny *= d
    kk = k[0] * k[1] * k[2]
    shape = f"x {tuple(c['x'])} kernel {k} stride {s} SAME"
    return shape, (ny * kk, 4.0 * (x.numel() + ny), fwd), (ny * kk, 8.0 * (x.numel() + ny), fwdbwd)


def make_dense(c, layout, device):
    """y = x w^T + b (F.linear); layout does not apply (2-D operands)."""
    m, kin = c["x"]
    kout = c["w"][0]
    g = torch.Generator().manual_seed(3)
    x = _uniform((m, kin), g, -1, 1, device)
    w = _uniform((kout, kin), g, -1, 1, device)
    b = _uniform((kout,), g, -1, 1, device)
    dy = _uniform((m, kout), g, -1, 1, device)
    xg, wg, bg = (v.clone().requires_grad_() for v in (x, w, b))

    def fwd():
        with torch.no_grad():
            F.linear(x, w, b)

    def fwdbwd():
        xg.grad = wg.grad = bg.grad = None
        F.linear(xg, wg, bg).backward(dy)

    fl = 2.0 * m * kin * kout
    by = 4.0 * (m * kin + kin * kout + m * kout)
    shape = f"x ({m}, {kin}) w ({kout}, {kin}) + bias"
    return shape, (fl, by, fwd), (3 * fl, 3 * by, fwdbwd)


OP_BUILDERS = {"bn_relu": make_bn_relu, "max_pool": make_max_pool, "dense": make_dense}


def op_cases(device="cpu"):
    """Yields (name, group, build) for every case of ops.json's bn_relu, max_pool and dense groups.
    name is "<group>/<case>" (asn-bench's CPU name; the CUDA baseline appends "_cuda"); build(layout)
    makes the tensors on `device` and returns (shape text, (flops, bytes, fwd), (flops, bytes,
    fwdbwd))."""
    with open(os.path.join(SHAPES_DIR, "ops.json")) as f:
        ops = json.load(f)
    for group, builder in OP_BUILDERS.items():
        for c in ops[group]:
            yield (f"{group}/{c['name']}", group,
                   lambda layout, c=c, builder=builder: builder(c, layout, device))


def conv3d_cases(device="cpu"):
    """The conv3d cases in op_cases' form."""
    with open(os.path.join(SHAPES_DIR, "conv3d.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        def build(layout, case=case):
            shape, ff, fb, bf, bb, fwd, fwdbwd = make_conv3d(case, layout, device)
            return shape, (ff, bf, fwd), (fb, bb, fwdbwd)
        yield f"conv3d/{case['name']}", "conv3d", build


def all_cases(device="cpu"):
    yield from conv3d_cases(device)
    yield from op_cases(device)


# The layout "best" picks per op group and path, each the faster one on the shared 2-vCPU VM:
# conv3d see docs/benchmarks.md; BN and max-pool run PyTorch's own kernels on both paths (oneDNN
# is not used for them on the CPU) and were 1.3x to 10x faster channels-last than NCDHW
# (2026-11-28, 2 threads; max-pool NCDHW 13 ms vs 1.4 ms on the stem case); dense is 2-D.
BEST_LAYOUT = {"conv3d": {"onednn": "channels_last", "native": "ncdhw"}}
DEFAULT_BEST_LAYOUT = "channels_last"


def best_layout(group, impl):
    return BEST_LAYOUT.get(group, {}).get(impl, DEFAULT_BEST_LAYOUT)


# ------------------------------------------------------------------------------------------------



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
    for name, group, build in all_cases("cpu"):
        passes = [p for p in ("fwd", "fwdbwd") if pattern.search(f"{name}/{p}")]
        if not passes:
            continue
        if args.list:
            for pass_name in passes:
                print(f"{name}/{pass_name}")
            continue
        for impl in impls:
            layout = best_layout(group, impl) if args.layout == "best" else args.layout
            shape, fwd_spec, fwdbwd_spec = build(layout)
            for pass_name in passes:
                full = f"{name}/{pass_name}"
                flops, nbytes, fn = fwd_spec if pass_name == "fwd" else fwdbwd_spec
                with torch.backends.mkldnn.flags(enabled=(impl == "onednn")):
                    median, best = time_it(fn, args.warmup, args.repeats, clock)
                row = {
                    "name": full, "group": group, "impl": f"pytorch-{impl}", "device": "cpu",
                    "threads": args.threads, "shape": shape, "dtype": "f32",
                    "median_ms": median, "min_ms": best,
                    "gflops": flops / (median * 1e-3) * 1e-9,
                    "gbps": nbytes / (median * 1e-3) * 1e-9,
                    "repeats": args.repeats, "warmup": args.warmup, "clock": args.clock,
                    "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"),
                    "host": host, "cpu": cpu, "torch": torch.__version__, "layout": layout,
                }
                print(f"{full:<42} {row['impl']:<15} {layout:<13} {median:>10.3f} "
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
