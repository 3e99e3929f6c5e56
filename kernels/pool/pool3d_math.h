// Window arithmetic of 3-D pooling along one axis, shared by the CPU and CUDA kernels.
//
// Output position o of an axis of length n (kernel k, stride s, padding before pb) covers the
// padded range [o*s - pb, o*s - pb + k); clipped to the input that is [begin, end). Going the other
// way (the gather form of backward), input position i lies in the windows of outputs
// [first, last] (empty when first > last: stride > kernel can leave inputs uncovered).
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

struct PoolRange {
  int64_t begin;
  int64_t end;  // exclusive
};

// Input positions [begin, end) seen by output o.
ASN_HOST_DEVICE PoolRange pool_window(int64_t o, int64_t n, int64_t k, int64_t s, int64_t pb) {
  int64_t b = o * s - pb;
  int64_t e = b + k;
  if (b < 0) b = 0;
  if (e > n) e = n;
  return PoolRange{b, e};
}

// Outputs [begin, end) whose windows contain input position i (n_out outputs on the axis).
ASN_HOST_DEVICE PoolRange pool_outputs_covering(int64_t i, int64_t n_out, int64_t k, int64_t s,
                                                int64_t pb) {
  // o*s - pb <= i  and  i < o*s - pb + k   <=>   (i + pb - k + 1) / s <= o <= (i + pb) / s
  const int64_t lo_num = i + pb - k + 1;
  int64_t b = lo_num <= 0 ? 0 : (lo_num + s - 1) / s;
  int64_t e = (i + pb) / s + 1;  // i + pb >= 0 always
  if (e > n_out) e = n_out;
  if (b > e) b = e;
  return PoolRange{b, e};
}

}  // namespace asn::kernels
