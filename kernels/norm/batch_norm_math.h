// Per-element and per-channel arithmetic of batch normalisation, shared by the CPU kernels and the
// CUDA kernels (ASN_HOST_DEVICE). See kernels/norm/batch_norm.h for the maths.
#pragma once

#include <math.h>

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

// TF / PyTorch moving-average convention: moving = momentum * moving + (1 - momentum) * stat.
ASN_HOST_DEVICE double bn_moving_update(double moving, double stat, double momentum) {
  return momentum * moving + (1.0 - momentum) * stat;
}

// Bessel's correction for the moving variance: n / (n - 1), with TF's guard n - 1 >= 1.
ASN_HOST_DEVICE double bn_unbiased_factor(int64_t n) {
  return static_cast<double>(n) / static_cast<double>(n > 1 ? n - 1 : 1);
}

ASN_HOST_DEVICE double bn_invstd(double var, double eps) { return 1.0 / sqrt(var + eps); }

// One-pass statistics (the CUDA forward) from sums of d = x - shift over n >= 1 values, where shift
// is one value of the channel (its first row), so the sums stay small and the variance formula does
// not cancel: s1 = sum d, s2 = sum d^2 give mean = shift + s1 / n and the biased variance
// s2 / n - (s1 / n)^2 (clamped at 0 against rounding).
ASN_HOST_DEVICE void bn_shifted_stats(double s1, double s2, double shift, int64_t n, double* mean,
                                      double* var) {
  const double m1 = s1 / static_cast<double>(n);
  const double v = s2 / static_cast<double>(n) - m1 * m1;
  *mean = shift + m1;
  *var = v > 0.0 ? v : 0.0;
}

// y = (x - mean) * scale + shift with scale = gamma * invstd, shift = beta; optionally ReLU'd.
template <class T>
ASN_HOST_DEVICE T bn_apply(T x, T mean, T scale, T shift, bool relu) {
  const T v = (x - mean) * scale + shift;
  return relu && !(v > T(0)) ? T(0) : v;
}

// The gradient reaching the affine map: dy itself, or dy masked by the fused ReLU's output y > 0.
// Written as a multiply by 0 / 1 (not a branch): compilers vectorise it and warps do not diverge.
template <class T>
ASN_HOST_DEVICE T bn_masked_grad(T dy, T y, bool relu) {
  return relu ? dy * static_cast<T>(y > T(0)) : dy;
}

// Training-mode input gradient with batch statistics (m = rows per channel, scale = gamma *
// invstd):
//   dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)),  xhat = (x - mean) * invstd.
template <class T>
ASN_HOST_DEVICE T bn_train_grad_x(T dy, T xhat, T scale, T mean_dy, T mean_dy_xhat) {
  return scale * (dy - mean_dy - xhat * mean_dy_xhat);
}

}  // namespace asn::kernels
