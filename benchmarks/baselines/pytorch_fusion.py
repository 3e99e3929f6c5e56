#!/usr/bin/env python3
"""PyTorch eager baseline for asn-bench's fusion benchmarks: the same fusions, the same JSON lines.

For every case of benchmarks/shapes/fusion.json and the chosen device it times, in PyTorch eager
mode, what one ag::gated_sum per channel group computes in asn:

    S_g = sum over the group's inputs j of (w_j * resize_j(x_j)) * a_j

with resize_j = F.max_pool2d over the frames (N*T images), window = stride = r, r = (H + 1) // Hs,
TF SAME padding (pad with -inf after/before as TF does, only when needed), the edge weight w_j a
scalar of the node's weight vector and the gate a_j (N, T, C) broadcast over (H, W) when the case
has peer attention. "fwd" runs every group under no_grad; "fwdbwd" runs every group forward and
backward(dS) with gradients for the inputs, the weights and the gates. Tensors are
(N*T, C, H, W) in torch.channels_last, i.e. the same bytes as asn's (N, T, H, W, C).

Output: one JSON line per benchmark in asn-bench's format (keys name, group, impl, device,
threads, shape, dtype, median_ms, min_ms, gflops, gbps, repeats, warmup, date, host, cpu, plus
torch, layout and, on CUDA, gpu), with the same names, flop and byte counts as
benchmarks/src/fusion_benchmarks.cpp, so rows line up.

  python3 benchmarks/baselines/pytorch_fusion.py --device cpu --threads 2 --json results.jsonl
  python3 benchmarks/baselines/pytorch_fusion.py --device cuda --filter node12
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

import torch
import torch.nn.functional as F
from bench_common import cpu_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = os.path.join(HERE, "..", "shapes", "fusion.json")


def same_pad(n, k, s):
    """TF SAME padding (before, after) of one axis; identical to kernels/common/padding.h."""
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def resize(x, hs, ws):
    """The reference's fusion resize of (N*T, C, H, W) to (hs, ws): identity or SAME max pool."""
    h, w = x.shape[2], x.shape[3]
    if (h, w) == (hs, ws):
        return x
    r = (h + 1) // hs
    (pt, pb), (pl, pr) = same_pad(h, r, r), same_pad(w, r, r)
    if pt or pb or pl or pr:
        x = F.pad(x, (pl, pr, pt, pb), value=float("-inf"))
    y = F.max_pool2d(x, kernel_size=r, stride=r)
    assert y.shape[2:] == (hs, ws), f"resize of {h}x{w} by {r} gives {tuple(y.shape[2:])}"
    return y


class Case:
    def __init__(self, case, device, batch, frames):
        self.name = case["name"]
        self.hs, self.ws = case["target"]
        self.peer = case["attention"] == "peer"
        n, t = batch, frames
        self.batch, self.frames = n, t
        g = torch.Generator(device="cpu").manual_seed(7)

        def rand(*shape, lo=-1.0, hi=1.0):
            return (torch.rand(*shape, generator=g) * (hi - lo) + lo).to(device)

        count = sum(len(gr["inputs"]) for gr in case["groups"])
        self.weights = rand(count, lo=0.2, hi=0.9)
        self.groups = []
        self.input_elems = self.output_elems = self.gate_elems = 0
        k = 0
        for gr in case["groups"]:
            c = gr["channels"]
            xs, gates, index = [], [], []
            for h, w in gr["inputs"]:
                x = rand(n * t, c, h, w).contiguous(memory_format=torch.channels_last)
                xs.append(x)
                index.append(k)
                k += 1
                self.input_elems += x.numel()
                if self.peer:
                    a = rand(n * t, c, 1, 1, lo=0.1, hi=1.0)
                    gates.append(a)
                    self.gate_elems += a.numel()
            ds = rand(n * t, c, self.hs, self.ws).contiguous(memory_format=torch.channels_last)
            self.output_elems += ds.numel()
            self.groups.append((xs, gates, index, ds))
        groups_text = "; ".join(
            f"C {gr['channels']}:" + "".join(f" {h}x{w}" for h, w in gr["inputs"])
            for gr in case["groups"])
        self.shape = (f"(N, T) = ({n}, {t}), groups [{groups_text}] -> {self.hs}x{self.ws}"
                      + (", peer gates" if self.peer else ""))

    def group_sum(self, xs, gates, index, weights):
        s = None
        for j, x in enumerate(xs):
            term = resize(x, self.hs, self.ws) * weights[index[j]]
            if gates:
                term = term * gates[j]
            s = term if s is None else s + term
        return s

    def fwd(self):
        with torch.no_grad():
            for xs, gates, index, _ in self.groups:
                self.group_sum(xs, gates, index, self.weights)

    def fwdbwd(self):
        for xs, gates, index, ds in self.groups:
            xg = [x.detach().requires_grad_(True) for x in xs]
            ag = [a.detach().requires_grad_(True) for a in gates]
            wg = self.weights.detach().requires_grad_(True)
            self.group_sum(xg, ag, index, wg).backward(ds)

    def counts(self, backward):
        """(flops, bytes) exactly as fusion_benchmarks.cpp counts them."""
        inp, out, gates = self.input_elems, self.output_elems, self.gate_elems
        weights = self.weights.numel()
        flops = 2 * inp + 2 * out
        nbytes = 4.0 * (inp + gates + weights + out)
        if backward:
            flops *= 2
            nbytes += 4.0 * (inp + out + gates + inp + gates + weights)
        return flops, nbytes




def time_it(fn, warmup, repeats, sync):
    for _ in range(warmup):
        fn()
        sync()
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--filter", default="", help="regex searched in the benchmark name")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", default="", help="append the JSON lines to this file")
    ap.add_argument("--list", action="store_true", help="print the benchmark names and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_fusion.py: --device cuda but torch sees no CUDA device")
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    pattern = re.compile(args.filter)
    host, cpu = socket.gethostname(), cpu_model()
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else None
    out = open(args.json, "a") if args.json else None

    with open(SHAPES) as f:
        cases = json.load(f)["cases"]
    if not args.list:
        print(f"{'benchmark':<50} {'median ms':>10} {'min ms':>10} {'GB/s':>8}", file=sys.stderr)
    for case in cases:
        batch, frames = case["runs"][args.device]
        base = f"fusion/{case['name']}_{args.device}_{batch}x{frames}"
        for pass_name in ("fwd", "fwdbwd"):
            name = f"{base}/{pass_name}"
            if not pattern.search(name):
                continue
            if args.list:
                print(name)
                continue
            c = Case(case, args.device, batch, frames)
            fn = c.fwd if pass_name == "fwd" else c.fwdbwd
            flops, nbytes = c.counts(pass_name == "fwdbwd")
            median, best = time_it(fn, args.warmup, args.repeats, sync)
            row = {
                "name": name, "group": "fusion", "impl": "pytorch-eager", "device": args.device,
                "threads": args.threads, "shape": c.shape, "dtype": "f32",
                "median_ms": median, "min_ms": best,
                "gflops": flops / (median * 1e-3) * 1e-9,
                "gbps": nbytes / (median * 1e-3) * 1e-9,
                "repeats": args.repeats, "warmup": args.warmup,
                "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"),
                "host": host, "cpu": cpu, "torch": torch.__version__, "layout": "channels_last",
            }
            if gpu:
                row["gpu"] = gpu
            print(f"{name:<50} {median:>10.3f} {best:>10.3f} {row['gbps']:>8.2f}", file=sys.stderr)
            line = json.dumps(row)
            print(line, flush=True)
            if out:
                out.write(line + "\n")
                out.flush()
            del c
            if args.device == "cuda":
                torch.cuda.empty_cache()
    if out:
        out.close()


if __name__ == "__main__":
    main()
