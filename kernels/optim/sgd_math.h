// Per-element SGD update shared by the CPU and CUDA backends (kernels/optim/sgd.h has the maths).
#pragma once

#include "engine/host_device.h"

namespace asn::kernels {

// Coupled L2: g + wd * w (wd is 0 outside the decay range; then g is returned unchanged).
template <class T>
ASN_HOST_DEVICE T sgd_decayed_grad(T w, T g, T wd) {
  return wd != T(0) ? g + wd * w : g;
}

// Plain SGD (no momentum buffer).
template <class T>
ASN_HOST_DEVICE void sgd_update(T& w, T g, T lr, T wd) {
  w -= lr * sgd_decayed_grad<T>(w, g, wd);
}

// SGD with a momentum buffer, plain or Nesterov.
template <class T>
ASN_HOST_DEVICE void sgd_momentum_update(T& w, T& buf, T g, T lr, T momentum, T wd, bool nesterov) {
  const T d = sgd_decayed_grad<T>(w, g, wd);
  buf = momentum * buf + d;
  w -= lr * (nesterov ? d + momentum * buf : buf);
}

}  // namespace asn::kernels
