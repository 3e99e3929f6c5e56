// Seeded random test tensors. Values are fresh per seed, never all zeros, and can be made
// pairwise distinct (no max-pool ties) or kept away from zero (no ReLU kinks).
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace asn::test {

// Uniform values in [lo, hi).
Tensor random_uniform(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1,
                      DType dtype = DType::f64);
// Normal values.
Tensor random_normal(const Shape& shape, uint64_t seed, double std = 1, DType dtype = DType::f64);
// A shuffled ramp: all values distinct, spaced by at least `gap`, centred on 0.
Tensor random_distinct(const Shape& shape, uint64_t seed, double gap = 0.01, DType dtype = DType::f64);
// Uniform magnitudes in [min_abs, max_abs) with random signs: away from 0 (ReLU kinks).
Tensor random_away_from_zero(const Shape& shape, uint64_t seed, double min_abs = 0.1,
                             double max_abs = 1.0, DType dtype = DType::f64);

}  // namespace asn::test
