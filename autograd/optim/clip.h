// Gradient clipping by global norm and a non-finite check, over the flat gradient buffer of an
// ag::Parameters (one reduction for the whole model, accumulated in double, deterministic for a
// given thread count). Works on CPU and CUDA parameters (kernels/tensor_ops.h).
#pragma once

#include "autograd/parameters.h"

namespace asn::ag {

// sqrt(sum of squares of every gradient element).
double grad_norm(Parameters& params);

// Returns the global gradient norm before clipping. When it exceeds max_norm (> 0), scales every
// gradient by max_norm / (norm + 1e-6) (PyTorch's clip_grad_norm_ coefficient). A non-finite norm
// is returned as is and the gradients are left untouched, so the caller can skip the step.
double clip_grad_norm(Parameters& params, double max_norm);

// True when every gradient element is finite (no NaN / Inf): use before step() to skip a bad batch.
bool grads_finite(Parameters& params);

}  // namespace asn::ag
