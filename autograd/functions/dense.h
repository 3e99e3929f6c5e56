// Differentiable dense layer (kernels/dense/dense.h):
//   dense(x, w, b): x (..., Cin) with any leading axes (at least rank 1), w (Cout, Cin),
//   b (Cout,) or an undefined Variable for no bias  ->  y (..., Cout) = x w^T + b.
// w has the layout of a 1x1x1 conv kernel (Cout, 1, 1, 1, Cin) reshaped to (Cout, Cin).
// Gradients are computed only for the inputs that need them (dx needs w, dw needs x).
#pragma once

#include "autograd/variable.h"

namespace asn::ag {

Variable dense(const Variable& x, const Variable& w, const Variable& b = Variable());

}  // namespace asn::ag
