// Arithmetic of temporal soft-max pooling shared by the CPU and CUDA backends
// (kernels/head/temporal_softmax_pool.h has the maths). Every function reads one (n, k) column of
// z (N, T, K): `z` points at element (n, 0, k) and consecutive frames are K elements apart. All
// accumulation is in double, frames in order.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

// m = max over t of z_t / tau.
template <class T>
ASN_HOST_DEVICE double tsp_column_max(const T* z, int64_t Tn, int64_t K, double tau) {
  double m = -INFINITY;
  for (int64_t t = 0; t < Tn; ++t) {
    const double v = static_cast<double>(z[t * K]) / tau;
    m = m < v ? v : m;
  }
  return m;
}

// Soft-max weight of one frame: a_t = exp(z_t / tau - m) / s.
ASN_HOST_DEVICE double tsp_weight(double z, double tau, double m, double s) {
  using std::exp;
  return exp(z / tau - m) / s;
}

// s = sum over t of exp(z_t / tau - m).
template <class T>
ASN_HOST_DEVICE double tsp_column_sum(const T* z, int64_t Tn, int64_t K, double tau, double m) {
  double s = 0;
  for (int64_t t = 0; t < Tn; ++t) s += tsp_weight(static_cast<double>(z[t * K]), tau, m, 1.0);
  return s;
}

// y = sum over t of a_t z_t.
template <class T>
ASN_HOST_DEVICE double tsp_column_pool(const T* z, int64_t Tn, int64_t K, double tau, double m,
                                       double s) {
  double acc = 0;
  for (int64_t t = 0; t < Tn; ++t) {
    const double zt = static_cast<double>(z[t * K]);
    acc += tsp_weight(zt, tau, m, s) * zt;
  }
  return acc;
}

// dz_t = dy (a_t + a_t (z_t - y) / tau).
ASN_HOST_DEVICE double tsp_grad(double dy, double a, double z, double y, double tau) {
  return dy * (a + a * (z - y) / tau);
}

}  // namespace asn::kernels
