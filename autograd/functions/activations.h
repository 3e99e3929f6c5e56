// Differentiable activations: ReLU, sigmoid, softmax over the last axis (kernels/elementwise/
// activations.h holds the maths). Inputs: f32 or f64 tensors of any shape (softmax: rank >= 1, on
// the last axis, e.g. (N, K) logits or (N, T, H, W, C) per-position). Each backward uses only the
// saved output.
#pragma once

#include "autograd/variable.h"

namespace asn::ag {

Variable relu(const Variable& x);
// Numerically stable for large |x|; works on any shape, including (1,) or (n,) logits.
Variable sigmoid(const Variable& x);
// Over the last axis, stabilised by subtracting each row's max.
Variable softmax(const Variable& x);

}  // namespace asn::ag
