// Per-element arithmetic of softmax cross-entropy shared by the CPU and CUDA backends
// (kernels/loss/softmax_cross_entropy.h has the maths and the layout).
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

// Smoothed target of class k in a row: (1 - s) * t + s / K.
template <class T>
ASN_HOST_DEVICE T sce_smoothed_target(T t, T smoothing, int64_t classes) {
  return (T(1) - smoothing) * t + smoothing / static_cast<T>(classes);
}

// Target of class k when the row's label is `label` (one-hot, then smoothed).
template <class T>
ASN_HOST_DEVICE T sce_label_target(int64_t k, int32_t label, T smoothing, int64_t classes) {
  return sce_smoothed_target<T>(k == label ? T(1) : T(0), smoothing, classes);
}

// Gradient of one logit: scale * (exp(z - lse) * target_sum - target).
template <class T>
ASN_HOST_DEVICE T sce_grad(T z, T lse, T target, T target_sum, T scale) {
  using std::exp;
  return scale * (exp(z - lse) * target_sum - target);
}

}  // namespace asn::kernels
