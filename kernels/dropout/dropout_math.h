// The dropout mask and scaling, shared by the CPU kernels and the CUDA kernels
// (ASN_HOST_DEVICE), so one (seed, offset) gives the same mask on both backends.
//
// Element k (row-major index into the flattened tensor) of the draw (seed, offset) is kept iff
// philox_uniform(seed, offset, k) >= rate, the comparison made in float (philox_uniform is an exact
// 24-bit float in [0, 1); rate is rounded to float once). Kept elements are multiplied by
// scale = 1 / (1 - rate) (computed in double, rounded to T once); dropped ones become 0.
//
// One Philox call yields the bits of four consecutive elements (block k / 4, lane k % 4; see
// engine/philox.h), so kernels take a block at a time: dropout_block_bits + dropout_keep_bits give
// exactly dropout_keep for each of the four elements.
#pragma once

#include <cstdint>

#include "engine/host_device.h"
#include "engine/philox.h"

namespace asn::kernels {

// The random bits of elements 4 * block .. 4 * block + 3 of the draw (seed, offset).
ASN_HOST_DEVICE PhiloxResult dropout_block_bits(uint64_t seed, uint64_t offset, uint64_t block) {
  return philox4x32_10(static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                       static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32),
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Keep decision from one element's 32 bits: the same 24-bit uniform as philox_uniform.
ASN_HOST_DEVICE bool dropout_keep_bits(uint32_t bits, float rate) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f) >= rate;
}

// Keep decision of element k (one Philox call per element; kernels use the block form).
ASN_HOST_DEVICE bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t k, float rate) {
  return dropout_keep_bits(dropout_block_bits(seed, offset, k >> 2).v[k & 3], rate);
}

// Forward and backward are the same map: v * scale where kept, else 0.
template <class T>
ASN_HOST_DEVICE T dropout_apply(T v, bool keep, T scale) {
  return keep ? v * scale : T(0);
}

}  // namespace asn::kernels
