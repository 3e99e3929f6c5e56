// Per-element AdamW update shared by the CPU and CUDA backends (kernels/optim/adamw.h has the
// maths), and the host-side scalars of one step.
#pragma once

#include <cmath>

#include "engine/host_device.h"
#include "kernels/optim/adamw.h"

namespace asn::kernels {

// Everything an element update needs, already in T.
template <class T>
struct AdamwCoeffs {
  T decay_factor;     // 1 - lr * wd (applied on the decay range only)
  T one_minus_beta1;  // 1 - beta1
  T beta2;
  T one_minus_beta2;  // 1 - beta2
  T step_size;        // lr / (1 - beta1^step)
  T bc2_sqrt;         // sqrt(1 - beta2^step)
  T eps;
};

// Host side: the scalars of update number p.step, formed in double as PyTorch does.
template <class T>
inline AdamwCoeffs<T> adamw_coeffs(const AdamwParams& p) {
  const double step = static_cast<double>(p.step);
  AdamwCoeffs<T> c;
  c.decay_factor = static_cast<T>(1.0 - p.lr * p.weight_decay);
  c.one_minus_beta1 = static_cast<T>(1.0 - p.beta1);
  c.beta2 = static_cast<T>(p.beta2);
  c.one_minus_beta2 = static_cast<T>(1.0 - p.beta2);
  c.step_size = static_cast<T>(p.lr / (1.0 - std::pow(p.beta1, step)));
  c.bc2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(p.beta2, step)));
  c.eps = static_cast<T>(p.eps);
  return c;
}

template <class T>
ASN_HOST_DEVICE void adamw_update(T& w, T g, T& m, T& v, const AdamwCoeffs<T>& c, bool decay) {
  using std::sqrt;
  if (decay) w = w * c.decay_factor;
  m = m + c.one_minus_beta1 * (g - m);
  v = v * c.beta2 + c.one_minus_beta2 * g * g;
  const T denom = sqrt(v) / c.bc2_sqrt + c.eps;
  w = w - c.step_size * m / denom;
}

}  // namespace asn::kernels
