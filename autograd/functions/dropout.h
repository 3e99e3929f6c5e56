// Differentiable dropout with Keras semantics (kernels/dropout/dropout.h): rate is the fraction
// dropped, kept values are scaled by 1 / (1 - rate).
//
// When training and rate > 0, one draw is taken from gen: (seed, offset) = (gen.seed(),
// gen.next_offset()), so each call advances gen by exactly one offset and the mask is a pure
// function of that pair (identical on CPU and CUDA). Backward recomputes the mask from (seed,
// offset). When !training or rate == 0 the op is the identity: it returns x itself, records
// nothing and leaves gen untouched. rate must be in [0, 1) in every mode (ValueError otherwise).
#pragma once

#include "autograd/variable.h"
#include "engine/rng.h"

namespace asn::ag {

Variable dropout(const Variable& x, double rate, Generator& gen, bool training);

}  // namespace asn::ag
