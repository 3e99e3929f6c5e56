// Differentiable elementwise arithmetic (kernels/elementwise/broadcast.h, scale.h).
//
// add / sub / mul broadcast: a and b have the same rank; the output shape is the elementwise max;
// each operand's axis equals the output's or is 1, e.g. x (N, T, H, W, C) * gate (N, T, 1, 1, C) or
// x + bias (1, 1, 1, 1, C). Gradients are summed over each operand's broadcast axes.
// All operands must share dtype (f32 or f64) and device.
#pragma once

#include <vector>

#include "autograd/variable.h"

namespace asn::ag {

Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);

// Sum of one or more Variables of identical shape, added in the given order (the fusion's
// weighted sum of several inputs). Each input's gradient is the output gradient.
Variable add_n(const std::vector<Variable>& xs);

// y = alpha * x for a host constant alpha (no gradient for alpha).
Variable scale(const Variable& x, double alpha);

// y = s * x where s holds one element (shape (1,), e.g. a learnable scalar gate such as
// sigmoid(edge logit)); gradients to both: dx = s * dy, ds = sum(dy * x).
Variable scale_by(const Variable& x, const Variable& s);

}  // namespace asn::ag
