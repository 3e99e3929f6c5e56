// Per-element arithmetic of sigmoid binary cross-entropy shared by the CPU and CUDA backends
// (kernels/loss/sigmoid_binary_cross_entropy.h has the maths and the layout).
#pragma once

#include <cmath>

#include "engine/host_device.h"

namespace asn::kernels {

// max(z, 0) - z t + log(1 + exp(-|z|)): finite for any finite z.
template <class T>
ASN_HOST_DEVICE T sigmoid_bce_element(T z, T t) {
  using std::exp;
  using std::fabs;
  using std::log1p;
  return (z > T(0) ? z : T(0)) - z * t + log1p(exp(-fabs(z)));
}

// sigmoid(z) without overflow: exp is only taken of a non-positive number.
template <class T>
ASN_HOST_DEVICE T stable_sigmoid(T z) {
  using std::exp;
  if (z >= T(0)) return T(1) / (T(1) + exp(-z));
  const T e = exp(z);
  return e / (T(1) + e);
}

template <class T>
ASN_HOST_DEVICE T sigmoid_bce_grad(T z, T t, T scale) {
  return scale * (stable_sigmoid<T>(z) - t);
}

}  // namespace asn::kernels
