// Dropout mask oracle (test-only): the definition written out, element k kept iff
// philox_uniform(seed, offset, k) >= rate (rate rounded to float), kept values scaled by
// 1 / (1 - rate) rounded to T.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/philox.h"

namespace asn::oracle {

inline std::vector<bool> dropout_mask(uint64_t seed, uint64_t offset, int64_t n, double rate) {
  std::vector<bool> keep(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    keep[static_cast<size_t>(k)] =
        philox_uniform(seed, offset, static_cast<uint64_t>(k)) >= static_cast<float>(rate);
  }
  return keep;
}

}  // namespace asn::oracle
