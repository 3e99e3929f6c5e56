// Per-element arithmetic of gated_sum (kernels/fusion/gated_sum.h), shared by the CPU and CUDA
// kernels: the resize window of an output position, the window-max tie rule, the forward term and
// the gradient terms. Keeping them here makes the CPU tests exercise exactly what the GPU runs.
#pragma once

#include <cstdint>

#include "engine/host_device.h"
#include "kernels/pool/pool3d_math.h"

namespace asn::kernels {

// Input rows (or columns) [begin, end) in the resize window of output position o along an axis of
// length n (window = stride = r, padding before pb). Padded positions are left out, so the padding
// never wins the max.
ASN_HOST_DEVICE PoolRange gated_sum_window(int64_t o, int64_t n, int64_t r, int64_t pb) {
  return pool_window(o, n, r, r, pb);
}

// Window-max scan rule (identical to max_pool3d's): a value replaces the current best only when it
// is strictly greater, or when it is the first NaN (a NaN best is never replaced). Scanning the
// window in (h, w) order from its first element therefore keeps the FIRST maximal element.
template <class T>
ASN_HOST_DEVICE bool gated_sum_replaces(T v, T best) {
  return v > best || (v != v && best == best);
}

// One input's contribution to S: (w * m) * a, in the order the composed ops evaluate it
// (scale_by, then the gate multiply).
template <class T>
ASN_HOST_DEVICE T gated_sum_term(T w, T m, T a) {
  return (w * m) * a;
}
// Without a gate.
template <class T>
ASN_HOST_DEVICE T gated_sum_term(T w, T m) {
  return w * m;
}

// Gradient reaching the window's argmax element of x_j: w * (dS * a) (the composed ops' order:
// the gate multiply's backward, then scale_by's).
template <class T>
ASN_HOST_DEVICE T gated_sum_input_grad(T w, T ds, T a) {
  return w * (ds * a);
}
template <class T>
ASN_HOST_DEVICE T gated_sum_input_grad(T w, T ds) {
  return w * ds;
}

// The per-(n, t, c) reduction p += dS * m, in double.
template <class T>
ASN_HOST_DEVICE double gated_sum_p_term(T ds, T m) {
  return static_cast<double>(ds) * static_cast<double>(m);
}

// The gate's gradient from p: da = w * p.
template <class T>
ASN_HOST_DEVICE T gated_sum_gate_grad(T w, double p) {
  return static_cast<T>(static_cast<double>(w) * p);
}

// One (n, t, c) element's contribution to dw: a * p (p alone without a gate).
template <class T>
ASN_HOST_DEVICE double gated_sum_weight_term(T a, double p) {
  return static_cast<double>(a) * p;
}

// Frame and channel of the V consecutive flat elements e, e + 1, ..., e + V - 1 of an
// (N, T, Hs, Ws, C) tensor (frame_elems = Hs Ws C), for the identity-input kernel: stepped from
// the first element when a frame holds at least V elements (the V elements then cross at most
// one frame boundary, and channels wrap at C), else divided per element. Equal to
// f = (e + l) / frame_elems, c = (e + l) % C for every l (tests/kernels/test_gated_sum.cpp).
template <int V>
ASN_HOST_DEVICE void gated_sum_flat_indices(int64_t e, int64_t C, int64_t frame_elems, int64_t (&f)[V],
                                            int64_t (&c)[V]) {
  f[0] = e / frame_elems;
  c[0] = e % C;
  for (int l = 1; l < V; ++l) {
    if (frame_elems >= V) {
      c[l] = c[l - 1] + 1 == C ? 0 : c[l - 1] + 1;
      f[l] = e + l >= (f[0] + 1) * frame_elems ? f[0] + 1 : f[0];
    } else {
      f[l] = (e + l) / frame_elems;
      c[l] = (e + l) % C;
    }
  }
}

}  // namespace asn::kernels
