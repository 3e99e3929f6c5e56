#!/usr/bin/env python3
"""PyTorch eager port of the representation-flow layer (assemblenet-spec section 5, bottleneck 1:
channel mean, whole-batch min/max normalisation, 40 (or 20) unrolled TV-L1 iterations, last flow
frame duplicated), for side-by-side timing with `asn-bench --filter rep_flow`.

It is the baseline a PyTorch user would write: every step a separate tensor op, no fusion. The
arithmetic follows the spec's listing (zero-padded central gradients of the later frame, forward
differences whose last column is -u, shifted 2-tap divergence).

Usage:
  python3 benchmarks/baselines/pytorch_rep_flow.py --device cpu --threads 2 --shape 1x16x112x112
  python3 benchmarks/baselines/pytorch_rep_flow.py --device cuda --shape 8x32x224x224 [--backward]
Prints one JSON line per measurement.
"""

import argparse
import datetime
import json
import platform
import statistics
import time

import torch
import torch.nn.functional as F


def central_x(img):  # 0.5 * (I[:, j+1] - I[:, j-1]) with zeros outside
    p = F.pad(img, (1, 1, 0, 0))
    return 0.5 * (p[..., 2:] - p[..., :-2])


def central_y(img):
    p = F.pad(img, (0, 0, 1, 1))
    return 0.5 * (p[..., 2:, :] - p[..., :-2, :])


def forward_x(u):  # u[j+1] - u[j], u[W] = 0
    return F.pad(u, (0, 1, 0, 0))[..., 1:] - u


def forward_y(u):
    return F.pad(u, (0, 0, 0, 1))[..., 1:, :] - u


def divergence(pa, pb):
    sa = F.pad(pa[..., :-1], (1, 0, 0, 0))
    sb = F.pad(pb[..., :-1, :], (0, 0, 1, 0))
    return forward_x(sa) + forward_y(sb)


def rep_flow(x, iterations=40, theta=0.3, lam=0.15, tau=0.25):
    """x: (N, T, H, W, 3) -> flow (N, T, H, W, 2)."""
    n, t, h, w, _ = x.shape
    img = x.mean(dim=-1)  # (N, T, H, W)
    lo, hi = img.min(), img.max()
    img = 255.0 * (img - lo) / (hi - lo)
    i0 = img[:, :-1].reshape(-1, h, w)
    i1 = img[:, 1:].reshape(-1, h, w)
    th = abs(theta) + 1e-12
    lt, taut = lam * th, tau / th
    gx, gy = central_x(i1), central_y(i1)
    grad = gx * gx + gy * gy + 1e-12
    rho_c = i1 - i0
    u1 = torch.zeros_like(i0)
    u2 = torch.zeros_like(i0)
    p11 = torch.zeros_like(i0)
    p12 = torch.zeros_like(i0)
    p21 = torch.zeros_like(i0)
    p22 = torch.zeros_like(i0)
    for _ in range(iterations):
        rho = rho_c + gx * u1 + gy * u2 + 1e-12
        m1 = rho < -lt * grad
        m2 = rho > lt * grad
        m3 = (~m1) & (~m2) & (grad > 1e-12)
        step = torch.where(m3, -rho / grad, torch.zeros_like(rho))
        d1 = torch.where(m1, lt * gx, torch.where(m2, -lt * gx, step * gx))
        d2 = torch.where(m1, lt * gy, torch.where(m2, -lt * gy, step * gy))
        u1 = u1 + d1 + th * divergence(p11, p12)
        u2 = u2 + d2 + th * divergence(p21, p22)
        u1x, u1y = forward_x(u1), forward_y(u1)
        u2x, u2y = forward_x(u2), forward_y(u2)
        n1 = 1 + taut * torch.sqrt(u1x * u1x + u1y * u1y + 1e-12)
        n2 = 1 + taut * torch.sqrt(u2x * u2x + u2y * u2y + 1e-12)
        p11, p12 = (p11 + taut * u1x) / n1, (p12 + taut * u1y) / n1
        p21, p22 = (p21 + taut * u2x) / n2, (p22 + taut * u2y) / n2
    flow = torch.stack([u1, u2], dim=-1).reshape(n, t - 1, h, w, 2)
    return torch.cat([flow, flow[:, -1:]], dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shape", default="1x16x112x112", help="NxTxHxW")
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--backward", action="store_true", help="forward+backward w.r.t. the input")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, t, h, w = (int(v) for v in args.shape.split("x"))
    dev = torch.device(args.device)
    x = torch.rand(n, t, h, w, 3, device=dev, requires_grad=args.backward)

    def run():
        y = rep_flow(x, args.iterations)
        if args.backward:
            y.sum().backward()
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    floor_bytes = x.numel() * 4 + n * t * h * w * 2 * 4  # read the input once, write the flow once
    med = statistics.median(times)
    print(json.dumps({
        # The name asn-bench uses for the same work (benchmarks/shapes/ops.json).
        "name": "rep_flow/{}_{}x{}x{}/{}".format("gpu" if dev.type == "cuda" else "cpu", n, t, h,
                                                "fwdbwd" if args.backward else "fwd"),
        "impl": "pytorch-eager " + torch.__version__,
        "device": torch.cuda.get_device_name() if dev.type == "cuda" else (platform.processor() or "cpu"),
        "threads": args.threads if dev.type == "cpu" else None,
        "shape": args.shape,
        "iterations": args.iterations,
        "median_ms": round(med, 3),
        "min_ms": round(min(times), 3),
        "gbps_floor": floor_bytes / (med / 1e3) / 1e9,
        "date": datetime.date.today().isoformat(),
    }))


if __name__ == "__main__":
    main()
