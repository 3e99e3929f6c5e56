// Per-element random values shared by the CPU and CUDA fills: value k of the draw at `offset`.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/host_device.h"
#include "engine/philox.h"

namespace asn {

// lo + (hi - lo) * u as one fused multiply-add: exactly one rounding on both backends (a plain
// expression is contracted into an FMA by some compilers and not by others).
ASN_HOST_DEVICE double philox_uniform_range(uint64_t seed, uint64_t offset, uint64_t k, double lo, double hi) {
  return fma(hi - lo, philox_uniform_f64(seed, offset, k), lo);
}

// Standard normal by Box-Muller on uniforms 2k and 2k+1 of the draw's own stream.
ASN_HOST_DEVICE double philox_normal(uint64_t seed, uint64_t offset, uint64_t k) {
  const double u1 = 1.0 - philox_uniform_f64(seed, offset, 2 * k);  // (0, 1]: log is finite
  const double u2 = philox_uniform_f64(seed, offset, 2 * k + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

// TF's truncated normal: redraw values beyond 2 std. Attempt a of element k uses normal number
// k + a * n of the draw, so elements are independent of each other and of the thread partition.
ASN_HOST_DEVICE double philox_truncated_normal(uint64_t seed, uint64_t offset, uint64_t k, uint64_t n) {
  for (uint64_t a = 0;; ++a) {
    const double z = philox_normal(seed, offset, k + a * n);
    if (z >= -2.0 && z <= 2.0) return z;
  }
}

}  // namespace asn
