// Differentiable shape ops: concat and slice along any axis (copies, kernels/shape/) and reshape
// (a view).
//
//   concat(xs, axis): xs agree in dtype, device, rank and every axis but `axis`; the result has
//     the sum of their sizes along `axis`. Negative axes count from the end (-1: channels).
//     Backward hands each input its slice of the gradient.
//   slice(x, axis, start, length): the sub-range [start, start + length) of `axis`, copied.
//     Backward scatters the gradient into zeros of x's shape.
//   reshape(x, shape): same elements, new shape (no copy; the result shares x's storage).
//     Backward reshapes the gradient back. Works on any dtype and device.
//   reshape_infer(x, dims): as reshape, with at most one dim given as -1 and inferred.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"

namespace asn::ag {

Variable concat(const std::vector<Variable>& xs, int axis);
Variable slice(const Variable& x, int axis, int64_t start, int64_t length);
Variable reshape(const Variable& x, const Shape& shape);
Variable reshape_infer(const Variable& x, const std::vector<int64_t>& dims);

}  // namespace asn::ag
