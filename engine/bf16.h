// bfloat16 storage type usable on host and device.
//
// Only conversion is defined: bf16 is a storage format, arithmetic happens in f32. Conversion from
// f32 rounds to nearest even (NaN stays NaN), matching __float2bfloat16_rn on CUDA.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/host_device.h"

namespace asn {

struct bf16 {
  uint16_t bits = 0;

  ASN_HOST_DEVICE static bf16 from_bits(uint16_t b) {
    bf16 v;
    v.bits = b;
    return v;
  }
  ASN_HOST_DEVICE static bf16 from_float(float f) {
    uint32_t u;
#ifdef __CUDA_ARCH__
    u = __float_as_uint(f);
#else
    std::memcpy(&u, &f, 4);
#endif
    if ((u & 0x7fffffffu) > 0x7f800000u) return from_bits(static_cast<uint16_t>((u >> 16) | 0x40u));
    const uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
    return from_bits(static_cast<uint16_t>((u + rounding_bias) >> 16));
  }
  ASN_HOST_DEVICE float to_float() const {
    const uint32_t u = static_cast<uint32_t>(bits) << 16;
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, 4);
    return f;
#endif
  }
};

}  // namespace asn
