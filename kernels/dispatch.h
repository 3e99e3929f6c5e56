// dtype dispatch for kernels: calls f(T{}) with T = float or double, or throws TypeError naming
// the op. CPU kernels are templates over T; this picks the instantiation.
#pragma once

#include "engine/tensor.h"

namespace asn::kernels {

template <class F>
void dispatch_float(const char* op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    default:
      ASN_THROW(TypeError, "{}: expected an f32 or f64 tensor, got {}", op, dtype_name(dtype));
  }
}

}  // namespace asn::kernels
