// Per-element arithmetic of scale, scale_by and add_n (kernels/elementwise/scale.h), shared by the
// CPU and CUDA kernels (ASN_HOST_DEVICE) so both backends round identically:
//   scale / scale_by:  y = alpha * x in T (alpha already rounded to T)
//   scale_by's ds:     the product a * b formed in double (the terms of a double-accumulated dot)
//   add_n:             one more input added to the running sum in T, in input order
#pragma once

#include "engine/host_device.h"

namespace asn::kernels {

template <class T>
ASN_HOST_DEVICE T scale_value(T alpha, T x) {
  return alpha * x;
}

template <class T>
ASN_HOST_DEVICE double dot_term(T a, T b) {
  return static_cast<double>(a) * static_cast<double>(b);
}

template <class T>
ASN_HOST_DEVICE T add_n_step(T sum, T x) {
  return sum + x;
}

}  // namespace asn::kernels
