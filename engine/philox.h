// Philox4x32-10: the counter-based generator of Salmon et al. (SC'11), shared by CPU and CUDA.
//
// A random number is a pure function of (seed, counter), so any element of any draw can be computed
// independently, in any order, on either backend, and gives the same bits. Draw convention used
// everywhere in the engine: a draw of n values at stream offset `offset` gives value k from
// philox(counter = {k / 4 (64 bits), offset (64 bits)}, key = seed), lane k % 4.
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace asn {

struct PhiloxResult {
  uint32_t v[4];
};

ASN_HOST_DEVICE uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

ASN_HOST_DEVICE PhiloxResult philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                            uint32_t k0, uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = philox_mulhilo(kMul0, c0, &hi0);
    const uint32_t lo1 = philox_mulhilo(kMul1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n1 = lo1;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    const uint32_t n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return PhiloxResult{{c0, c1, c2, c3}};
}

// The 32 random bits of element k of the draw at `offset` with `seed`.
ASN_HOST_DEVICE uint32_t philox_bits(uint64_t seed, uint64_t offset, uint64_t k) {
  const uint64_t block = k >> 2;
  const PhiloxResult r = philox4x32_10(static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                                       static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32),
                                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return r.v[k & 3];
}

// Uniform float in [0, 1) with 24 random bits (exactly representable, identical on both backends).
ASN_HOST_DEVICE float philox_uniform(uint64_t seed, uint64_t offset, uint64_t k) {
  return static_cast<float>(philox_bits(seed, offset, k) >> 8) * (1.0f / 16777216.0f);
}

// Uniform double in [0, 1) with 53 random bits from two consecutive 32-bit values of a second stream
// (element 2k and 2k+1 of the draw at `offset`).
ASN_HOST_DEVICE double philox_uniform_f64(uint64_t seed, uint64_t offset, uint64_t k) {
  const uint64_t a = philox_bits(seed, offset, 2 * k) >> 5;      // 27 bits
  const uint64_t b = philox_bits(seed, offset, 2 * k + 1) >> 6;  // 26 bits
  return static_cast<double>((a << 26) | b) * (1.0 / 9007199254740992.0);
}

}  // namespace asn
