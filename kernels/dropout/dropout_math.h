// The dropout mask and scaling, shared by the CPU kernels and the later CUDA kernels
// (ASN_HOST_DEVICE), so one (seed, offset) gives the same mask on both backends.
//
// Element k (row-major index into the flattened tensor) of the draw (seed, offset) is kept iff
// philox_uniform(seed, offset, k) >= rate, the comparison made in float (philox_uniform is an exact
// 24-bit float in [0, 1); rate is rounded to float once). Kept elements are multiplied by
// scale = 1 / (1 - rate) (computed in double, rounded to T once); dropped ones become 0.
#pragma once

#include <cstdint>

#include "engine/host_device.h"
#include "engine/philox.h"

namespace asn::kernels {

ASN_HOST_DEVICE bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t k, float rate) {
  return philox_uniform(seed, offset, k) >= rate;
}

// Forward and backward are the same map: v * scale where kept, else 0.
template <class T>
ASN_HOST_DEVICE T dropout_apply(T v, bool keep, T scale) {
  return keep ? v * scale : T(0);
}

}  // namespace asn::kernels
