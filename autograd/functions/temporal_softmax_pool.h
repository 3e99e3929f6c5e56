// temporal_softmax_pool: per-frame logits (N, T, K) -> clip logits (N, K) by the reference's
// temporal soft-max pooling with temperature sqrt(T) (kernels/head/temporal_softmax_pool.h).
#pragma once

#include "autograd/variable.h"

namespace asn::ag {

Variable temporal_softmax_pool(const Variable& z);

}  // namespace asn::ag
