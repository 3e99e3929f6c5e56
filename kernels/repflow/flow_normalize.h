// Input preparation of the representation-flow layer (assemblenet-spec §5.1 steps 1-2).
//
// x (N, T, H, W, C) -> y (N, T, H, W, C'):
//   1. channel_mean: m = plain mean of the C channels (C' = 1; no luminance weights), else m = x.
//   2. normalize:    y = 255 (m - min) / (max - min), min and max over the WHOLE tensor (every clip,
//                    frame and pixel: the result depends on the batch), else y = m.
// max == min (a constant input): the reference divides by zero; we return y = m - min (all zeros),
// so a constant clip gives a zero image and therefore a zero flow.
//
// Gradients follow TF's reduce_min / reduce_max: the gradient reaching min (max) is divided equally
// among all elements that equal it. With s = 255 / (max - min), G = sum g, R = sum g y:
//   dL/dm_i = s g_i + [m_i == min] (R / (max - min) - s G) / n_min + [m_i == max] (-R / (max - min)) / n_max
// and in the constant case dL/dm_i = g_i - [m_i == min] G / n_min (every element ties, n_min = n).
// The channel mean passes dL/dm / C to every channel.
//
// Saved for backward: x itself and the two statistics (min, max); y is recomputed.
// Determinism: sums are accumulated in double over fixed blocks of elements and combined in block
// order (independent of the thread count); min / max are exact.
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

struct FlowNormalizeDims {
  int64_t pixels = 0;  // N T H W
  int64_t c = 1;       // input channels
  bool channel_mean = true;
  bool normalize = true;
  ASN_HOST_DEVICE int64_t out_channels() const { return channel_mean ? 1 : c; }
  ASN_HOST_DEVICE int64_t out_numel() const { return pixels * out_channels(); }
};

// min / max of the channel-reduced values m (meaningful when normalize).
struct FlowNormalizeStats {
  double min = 0, max = 0;
};

// What the backward pass distributes to the tied elements (computed on the host, in double).
struct FlowNormalizeShares {
  double scale = 1;      // dy/dm away from the ties: 255 / (max - min), or 1
  double min_share = 0;  // added to dL/dm where m == min
  double max_share = 0;  // added to dL/dm where m == max
};
// From the statistics and the sums G = sum g, R = sum g y and the tie counts.
FlowNormalizeShares flow_normalize_shares(const FlowNormalizeStats& st, double sum_g,
                                          double sum_gy, int64_t n_min, int64_t n_max,
                                          int64_t n);

namespace flownorm {
// Shared per-element arithmetic (CPU and CUDA).
template <class T>
ASN_HOST_DEVICE T reduce_channels(const T* px, int64_t c, bool mean) {
  if (!mean) return px[0];
  T s = px[0];
  for (int64_t k = 1; k < c; ++k) s += px[k];
  return s / T(c);
}
template <class T>
ASN_HOST_DEVICE T normalize_value(T m, T mn, T mx) {
  return mx > mn ? (T(255) * (m - mn)) / (mx - mn) : m - mn;
}
template <class T>
ASN_HOST_DEVICE T normalize_grad(T m, T g, T mn, T mx, T scale, T min_share, T max_share) {
  T r = g * scale;
  if (m == mn) r += min_share;
  if (m == mx) r += max_share;
  return r;
}
}  // namespace flownorm

template <class T>
FlowNormalizeStats flow_normalize_forward_cpu(const T* x, const FlowNormalizeDims& d, T* y);
template <class T>
void flow_normalize_backward_cpu(const T* x, const T* grad_y, const FlowNormalizeDims& d,
                                 const FlowNormalizeStats& st, T* grad_x);

#ifdef ASN_WITH_CUDA
namespace cuda {
template <class T>
FlowNormalizeStats flow_normalize_forward(const T* x, const FlowNormalizeDims& d, T* y, int device);
template <class T>
void flow_normalize_backward(const T* x, const T* grad_y, const FlowNormalizeDims& d,
                             const FlowNormalizeStats& st, T* grad_x, int device);
}  // namespace cuda
#endif

}  // namespace asn::kernels
