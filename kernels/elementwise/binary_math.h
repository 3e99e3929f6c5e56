// Per-element arithmetic of the broadcasting binary ops (add, sub, mul) and of their gradients,
// shared by the CPU kernels and the CUDA kernels (ASN_HOST_DEVICE).
//
//   add: out = a + b    d/da = g        d/db = g
//   sub: out = a - b    d/da = g        d/db = -g
//   mul: out = a * b    d/da = g * b    d/db = g * a
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

enum class BinaryOp : uint8_t { add, sub, mul };

template <BinaryOp OP, class T>
ASN_HOST_DEVICE T binary_value(T a, T b) {
  if constexpr (OP == BinaryOp::add)
    return a + b;
  else if constexpr (OP == BinaryOp::sub)
    return a - b;
  else
    return a * b;
}

// Gradient term for operand a at one output element: g is the output gradient, b the other operand.
template <BinaryOp OP, class T>
ASN_HOST_DEVICE T binary_grad_a(T g, T b) {
  if constexpr (OP == BinaryOp::mul)
    return g * b;
  else
    return g;
}

// Gradient term for operand b at one output element: g is the output gradient, a the other operand.
template <BinaryOp OP, class T>
ASN_HOST_DEVICE T binary_grad_b(T g, T a) {
  if constexpr (OP == BinaryOp::add)
    return g;
  else if constexpr (OP == BinaryOp::sub)
    return -g;
  else
    return g * a;
}

}  // namespace asn::kernels
