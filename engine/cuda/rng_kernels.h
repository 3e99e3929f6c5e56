// Generator fills on CUDA tensors: the same (seed, offset, element) -> value mapping as the CPU
// fills in engine/rng.cpp, so a seeded initialisation or random input is identical on both backends
// (uniform: bit-identical; normal: equal up to the last bits of the device's log/cos).
#pragma once

#include <cstdint>

#include "engine/dtype.h"

namespace asn::cuda {

enum class RandomKind { kUniform, kNormal, kTruncatedNormal };

// a, b: (lo, hi) for uniform, (mean, std) for the normals.
void random_fill(void* ptr, DType dtype, int64_t n, RandomKind kind, uint64_t seed, uint64_t offset,
                 double a, double b, int device);

}  // namespace asn::cuda
