// Differentiable reductions: sum / mean over a set of axes, min / max over the whole tensor or
// one axis (kernels/reduce/).
//
//   sum(x, axes, keepdims), mean(x, axes, keepdims)
//     axes: a non-empty set of distinct axes, negative ones counting from the end. The result
//     drops the reduced axes, or keeps them as size 1 with keepdims; reducing every axis without
//     keepdims gives shape (1,). Accumulates in double; deterministic for any thread count.
//     e.g. per-frame spatial mean of (N, T, H, W, C): mean(x, {2, 3}) -> (N, T, C),
//          mean(x, {2, 3}, true) -> (N, T, 1, 1, C); temporal mean of (N, T, C): mean(x, {1}).
//   reduce_max(x), reduce_min(x): over the whole tensor, shape (1,).
//   reduce_max(x, axis, keepdims), reduce_min(x, axis, keepdims): along one axis.
//     Gradient exactly as TF: the incoming gradient is split EQUALLY among all elements equal to
//     the extreme (two tied maxima get half each). NaN propagates to the result.
#pragma once

#include <vector>

#include "autograd/variable.h"

namespace asn::ag {

Variable sum(const Variable& x, const std::vector<int>& axes, bool keepdims = false);
Variable mean(const Variable& x, const std::vector<int>& axes, bool keepdims = false);

Variable reduce_max(const Variable& x);
Variable reduce_min(const Variable& x);
Variable reduce_max(const Variable& x, int axis, bool keepdims = false);
Variable reduce_min(const Variable& x, int axis, bool keepdims = false);

}  // namespace asn::ag
