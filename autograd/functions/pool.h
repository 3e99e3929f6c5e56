// Differentiable 3-D pooling on channels-last (N, T, H, W, C) tensors (kernels/pool/).
//
//   max_pool3d: padding never wins, ties go to the first element in (t, h, w) scan order and
//               backward routes the gradient there (saved for backward: int32 argmax of the
//               output's size, recorded only when a gradient is needed; x itself is not kept).
//   avg_pool3d: padded positions are excluded from the divisor (TF SAME semantics).
//
// Build the parameters with kernels::Pool3dParams::same / ::valid, e.g. the stem's 3x3/2 SAME
// max pool on a (N, T, H, W, C) input x:
//   max_pool3d(x, Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {x.shape()[1], x.shape()[2],
//   x.shape()[3]}))
// A 4-D "(N*T, H, W, C)" tensor is pooled by viewing it as (N*T, 1, H, W, C) with ag::reshape.
#pragma once

#include "autograd/variable.h"
#include "kernels/pool/pool3d.h"

namespace asn::ag {

Variable max_pool3d(const Variable& x, const kernels::Pool3dParams& params);
Variable avg_pool3d(const Variable& x, const kernels::Pool3dParams& params);

}  // namespace asn::ag
