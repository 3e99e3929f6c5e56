#!/usr/bin/env python3
"""Independent NumPy reference of the representation-flow layer (assemblenet-spec.md section 5).

Transcribed from the spec text (section 5.1 steps 1-5 and the TV-L1 listing of section 5.2), not
from the C++ implementation: every convolution here is a generic TF 'SAME', stride-1
cross-correlation over an explicitly zero-padded array, and the divergence is built the way the
spec describes it (shift right / down by one, then the 2-tap forward difference), so the closed-form
border rules that the C++ code uses are checked rather than shared.

Running this script rewrites the fixtures under tests/reference/fixtures/ (deterministic: fixed
seeds). Each case <name> is three .npy files, all float64, little endian:
  <name>_x.npy       input (N, T, H, W, C), values rounded to float32 so both precisions see the same
  <name>_params.npy  20 numbers: iterations, channel_mean, normalize, theta, lambda, tau,
                     img_grad_x[3], img_grad_y[3], f_grad_x[2], f_grad_y[2], f_grad_x2[2], f_grad_y2[2]
  <name>_flow64.npy  flow (N, T, H, W, 2*C') computed in float64   (C' = 1 with channel_mean, else C)
  <name>_flow32.npy  the same computed in float32 (every constant and intermediate rounded to float32
                     the way a TF float32 graph would), stored widened to float64

Filter roles follow the reference code (GR-rf rep_flow): f_grad_x / f_grad_y are the divergence
filters, f_grad_x2 / f_grad_y2 the forward-difference filters (see docs/rep-flow.md).

Usage: python3 tests/reference/rep_flow_reference.py [--out DIR]
"""

import argparse
import os

import numpy as np


def same_correlate(img, taps, axis):
    """TF conv2d 'SAME', stride 1, cross-correlation of a (..., H, W) array along `axis` with a 1-D
    kernel: total padding k-1, the smaller half before, zeros outside the image."""
    k = len(taps)
    before = (k - 1) // 2
    after = (k - 1) - before
    pad = [(0, 0)] * img.ndim
    pad[axis] = (before, after)
    padded = np.pad(img, pad)
    n = img.shape[axis]
    out = np.zeros_like(img)
    for t in range(k):
        window = np.take(padded, np.arange(t, t + n), axis=axis)
        out = out + taps[t] * window
    return out


def divergence(pa, pb, fx, fy):
    """Spec 5.2: shift pa right by one column (drop the last, zeros enter at column 0), pb down by
    one row, then the 2-tap forward difference of each; div = div_x + div_y."""
    sa = np.zeros_like(pa)
    sa[..., :, 1:] = pa[..., :, :-1]
    sb = np.zeros_like(pb)
    sb[..., 1:, :] = pb[..., :-1, :]
    return same_correlate(sa, fx, axis=-1) + same_correlate(sb, fy, axis=-2)


def tvl1(img0, img1, prm, iterations, dt):
    """The unrolled TV-L1 of spec 5.2 on planes (B, H, W); returns (u1, u2)."""
    c = lambda v: dt(v)  # noqa: E731  (every constant in the working precision)
    eps = c(1e-12)
    theta = np.abs(c(prm["theta"])) + eps
    lt = c(prm["lambda"]) * theta
    taut = c(prm["tau"]) / theta
    igx = [c(v) for v in prm["img_grad_x"]]
    igy = [c(v) for v in prm["img_grad_y"]]
    fdx = [c(v) for v in prm["f_grad_x"]]
    fdy = [c(v) for v in prm["f_grad_y"]]
    ffx = [c(v) for v in prm["f_grad_x2"]]
    ffy = [c(v) for v in prm["f_grad_y2"]]

    gx = same_correlate(img1, igx, axis=-1)  # central gradients of the LATER frame
    gy = same_correlate(img1, igy, axis=-2)
    grad = gx * gx + gy * gy + eps
    rho_c = img1 - img0
    u1 = np.zeros_like(img0)
    u2 = np.zeros_like(img0)
    p11 = np.zeros_like(img0)
    p12 = np.zeros_like(img0)
    p21 = np.zeros_like(img0)
    p22 = np.zeros_like(img0)
    zero = np.zeros_like(img0)
    for _ in range(iterations):
        rho = rho_c + gx * u1 + gy * u2 + eps
        m1 = rho < -lt * grad
        m2 = rho > lt * grad
        m3 = (~m1) & (~m2) & (grad > eps)
        d1 = np.where(m1, lt * gx, np.where(m2, -lt * gx, np.where(m3, (-rho / grad) * gx, zero)))
        d2 = np.where(m1, lt * gy, np.where(m2, -lt * gy, np.where(m3, (-rho / grad) * gy, zero)))
        v1 = u1 + d1
        v2 = u2 + d2
        u1 = v1 + theta * divergence(p11, p12, fdx, fdy)
        u2 = v2 + theta * divergence(p21, p22, fdx, fdy)
        u1x = same_correlate(u1, ffx, axis=-1)
        u1y = same_correlate(u1, ffy, axis=-2)
        u2x = same_correlate(u2, ffx, axis=-1)
        u2y = same_correlate(u2, ffy, axis=-2)
        n1 = c(1) + taut * np.sqrt(u1x * u1x + u1y * u1y + eps)
        n2 = c(1) + taut * np.sqrt(u2x * u2x + u2y * u2y + eps)
        p11 = (p11 + taut * u1x) / n1
        p12 = (p12 + taut * u1y) / n1
        p21 = (p21 + taut * u2x) / n2
        p22 = (p22 + taut * u2y) / n2
    return u1, u2


def rep_flow(x, prm, iterations, channel_mean, normalize, dt):
    """Spec 5.1: x (N, T, H, W, C) -> flow (N, T, H, W, 2 C'), channels u1 of every channel, then u2
    of every channel; the last flow frame duplicated. T == 1 gives zeros (our documented choice)."""
    x = x.astype(dt)
    n, t, h, w, ch = x.shape
    if channel_mean:
        x = np.sum(x, axis=-1, keepdims=True) / dt(ch)  # plain mean of the channels
    if normalize:
        mn = np.min(x)
        mx = np.max(x)
        if mx == mn:
            x = x - mn  # our documented choice for a constant input
        else:
            x = dt(255) * (x - mn) / (mx - mn)
    cp = x.shape[-1]
    if t == 1:
        return np.zeros((n, t, h, w, 2 * cp), dtype=dt)
    # Planes (N, T-1, C', H, W): frame pairs per clip, every channel separately (depthwise).
    planes = np.transpose(x, (0, 1, 4, 2, 3))
    img0 = planes[:, :-1]
    img1 = planes[:, 1:]
    u1, u2 = tvl1(img0, img1, prm, iterations, dt)
    flow = np.concatenate([u1, u2], axis=2)  # (N, T-1, 2C', H, W)
    flow = np.concatenate([flow, flow[:, -1:]], axis=1)  # duplicate the last time step
    return np.transpose(flow, (0, 1, 3, 4, 2))


DEFAULT = {
    "theta": 0.3, "lambda": 0.15, "tau": 0.25,
    "img_grad_x": [-0.5, 0.0, 0.5], "img_grad_y": [-0.5, 0.0, 0.5],
    "f_grad_x": [-1.0, 1.0], "f_grad_y": [-1.0, 1.0],
    "f_grad_x2": [-1.0, 1.0], "f_grad_y2": [-1.0, 1.0],
}


def params_vector(prm, iterations, channel_mean, normalize):
    v = [iterations, int(channel_mean), int(normalize), prm["theta"], prm["lambda"], prm["tau"]]
    for k in ("img_grad_x", "img_grad_y", "f_grad_x", "f_grad_y", "f_grad_x2", "f_grad_y2"):
        v += list(prm[k])
    return np.asarray(v, dtype=np.float64)


def self_check():
    """The closed forms of spec 5.2 against the generic construction above."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 5))
    fwd = same_correlate(a, [-1.0, 1.0], axis=-1)
    assert np.allclose(fwd[:, :-1], a[:, 1:] - a[:, :-1]) and np.allclose(fwd[:, -1], -a[:, -1])
    cen = same_correlate(a, [-0.5, 0.0, 0.5], axis=-1)
    assert np.allclose(cen[:, 1:-1], 0.5 * (a[:, 2:] - a[:, :-2]))
    assert np.allclose(cen[:, 0], 0.5 * a[:, 1]) and np.allclose(cen[:, -1], -0.5 * a[:, -2])
    div = divergence(a, np.zeros_like(a), [-1.0, 1.0], [-1.0, 1.0])
    assert np.allclose(div[:, 1:-1], a[:, 1:-1] - a[:, :-2])
    assert np.allclose(div[:, 0], a[:, 0]) and np.allclose(div[:, -1], -a[:, -2])


def write_case(out, name, x, prm, iterations, channel_mean, normalize):
    np.save(os.path.join(out, name + "_x.npy"), x)
    np.save(os.path.join(out, name + "_params.npy"),
            params_vector(prm, iterations, channel_mean, normalize))
    f64 = rep_flow(x, prm, iterations, channel_mean, normalize, np.float64)
    f32 = rep_flow(x, prm, iterations, channel_mean, normalize, np.float32)
    np.save(os.path.join(out, name + "_flow64.npy"), f64.astype(np.float64))
    np.save(os.path.join(out, name + "_flow32.npy"), f32.astype(np.float64))
    rel = np.max(np.abs(f32 - f64)) / np.max(np.abs(f64))
    print(f"{name}: x {x.shape} -> flow {f64.shape}, max |flow| {np.max(np.abs(f64)):.4g}, "
          f"float32 vs float64 max error / max |flow| = {rel:.3g}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "fixtures"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    self_check()

    # AssembleNet's use: RGB clips, mean + normalisation, 40 iterations, default parameters.
    rng = np.random.default_rng(20240611)
    x = rng.random((2, 4, 9, 11, 3)).astype(np.float32).astype(np.float64)
    write_case(args.out, "rgb40", x, DEFAULT, 40, True, True)

    # The general per-channel path (no channel mean), non-default parameters (negative theta tests
    # the |theta|), perturbed filters so that every tap matters.
    prm = {
        "theta": -0.35, "lambda": 0.2, "tau": 0.3,
        "img_grad_x": [-0.45, 0.05, 0.55], "img_grad_y": [-0.6, -0.02, 0.4],
        "f_grad_x": [-1.1, 0.9], "f_grad_y": [-0.95, 1.05],
        "f_grad_x2": [-0.9, 1.2], "f_grad_y2": [-1.05, 0.85],
    }
    x = rng.random((1, 3, 7, 5, 2)).astype(np.float32).astype(np.float64)
    write_case(args.out, "multi20", x, prm, 20, False, True)

    # No normalisation at all (raw values), two channels, 7 iterations.
    x = (40.0 * rng.random((2, 2, 6, 8, 2))).astype(np.float32).astype(np.float64)
    write_case(args.out, "raw7", x, DEFAULT, 7, False, False)


if __name__ == "__main__":
    main()
