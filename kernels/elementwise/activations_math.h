// Per-element arithmetic of the activations (ReLU, sigmoid, softmax), shared by the CPU kernels
// and the CUDA kernels (ASN_HOST_DEVICE), so the CPU tests exercise the GPU's formulas.
//
// Sigmoid is evaluated in the form that never overflows: for x >= 0, 1 / (1 + exp(-x)); for x < 0,
// exp(x) * (1 / (1 + exp(x))). Both exponents are <= 0, so exp() stays in (0, 1] and large |x|
// saturates cleanly to 0 or 1 instead of producing inf / inf.
#pragma once

#include <math.h>

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

ASN_HOST_DEVICE float act_exp(float x) { return expf(x); }
ASN_HOST_DEVICE double act_exp(double x) { return exp(x); }

// y = max(x, 0).
template <class T>
ASN_HOST_DEVICE T relu_value(T x) {
  return x > T(0) ? x : T(0);
}
// dx = dy where the saved output y > 0 (y > 0 exactly when x > 0; the kink x = 0 gets 0).
template <class T>
ASN_HOST_DEVICE T relu_grad(T dy, T y) {
  return y > T(0) ? dy : T(0);
}

// y = 1 / (1 + exp(-x)), overflow-free for any finite x.
// Written as selects rather than branches so a CPU loop over random signs vectorises and a GPU warp
// does not diverge: e = exp(-|x|) <= 1, r = 1 / (1 + e); y = r for x >= 0, e * r for x < 0.
template <class T>
ASN_HOST_DEVICE T sigmoid_value(T x) {
  const bool pos = x >= T(0);
  const T e = act_exp(pos ? -x : x);
  const T r = T(1) / (T(1) + e);
  return pos ? r : e * r;
}
// dx = dy * y * (1 - y) from the saved output y.
template <class T>
ASN_HOST_DEVICE T sigmoid_grad(T dy, T y) {
  return dy * y * (T(1) - y);
}

// Softmax pieces, shared with the CUDA kernels (which reduce a row across a warp):
//   softmax_exp:       e_j = exp(x_j - m), in T
//   softmax_normalise: y_j = e_j / s with inv = 1 / s in Acc: y_j = T(Acc(e_j) * inv)
//   softmax_grad_value: dx_j = T(Acc(y_j) * (Acc(dy_j) - dot)), dot = sum_k dy_k y_k in Acc
template <class T>
ASN_HOST_DEVICE T softmax_exp(T x, T m) {
  return act_exp(x - m);
}
template <class T, class Acc>
ASN_HOST_DEVICE T softmax_normalise(T e, Acc inv) {
  return static_cast<T>(static_cast<Acc>(e) * inv);
}
template <class T, class Acc>
ASN_HOST_DEVICE T softmax_grad_value(T dy, T y, Acc dot) {
  return static_cast<T>(static_cast<Acc>(y) * (static_cast<Acc>(dy) - dot));
}

// Softmax over one row of length n: y_j = exp(x_j - m) / sum_k exp(x_k - m), m = max_k x_k.
// Backward from the saved output: dx_j = y_j * (dy_j - sum_k dy_k y_k). The sums are accumulated in
// the type Acc (double on the CPU and on CUDA).
template <class T, class Acc>
ASN_HOST_DEVICE void softmax_row(const T* x, T* y, int64_t n) {
  T m = x[0];
  for (int64_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  Acc s = 0;
  for (int64_t j = 0; j < n; ++j) {
    const T e = softmax_exp(x[j], m);
    y[j] = e;
    s += static_cast<Acc>(e);
  }
  const Acc inv = Acc(1) / s;
  for (int64_t j = 0; j < n; ++j) y[j] = softmax_normalise(y[j], inv);
}

template <class T, class Acc>
ASN_HOST_DEVICE void softmax_grad_row(const T* dy, const T* y, T* dx, int64_t n) {
  Acc dot = 0;
  for (int64_t j = 0; j < n; ++j) dot += static_cast<Acc>(dy[j]) * static_cast<Acc>(y[j]);
  for (int64_t j = 0; j < n; ++j) dx[j] = softmax_grad_value(dy[j], y[j], dot);
}

}  // namespace asn::kernels
