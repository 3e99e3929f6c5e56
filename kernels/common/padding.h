// Padding rules of the reference (TensorFlow) for one axis, shared by convolution and pooling.
//
//   TF "SAME":  out = ceil(n / s); total = max((out - 1) * s + (k - 1) * d + 1 - n, 0);
//               before = floor(total / 2); after = total - before   (the extra pad goes after)
//   "VALID":    no padding; out = floor((n - (k - 1) * d - 1) / s) + 1
//   "fixed" (GR conv2d_fixed_padding, strided 2-D convs of AssembleNet): before = (k - 1) / 2,
//               after = (k - 1) - before, then VALID. For odd k this is symmetric.
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace asn::kernels {

struct AxisPad {
  int64_t before = 0;
  int64_t after = 0;
};

ASN_HOST_DEVICE int64_t effective_kernel(int64_t k, int64_t dilation) { return (k - 1) * dilation + 1; }

ASN_HOST_DEVICE AxisPad same_padding(int64_t n, int64_t k, int64_t stride, int64_t dilation) {
  const int64_t out = (n + stride - 1) / stride;
  int64_t total = (out - 1) * stride + effective_kernel(k, dilation) - n;
  if (total < 0) total = 0;
  return AxisPad{total / 2, total - total / 2};
}

ASN_HOST_DEVICE AxisPad fixed_padding(int64_t k) { return AxisPad{(k - 1) / 2, (k - 1) - (k - 1) / 2}; }

// Output length for an explicit padding; <= 0 means the window does not fit.
ASN_HOST_DEVICE int64_t padded_out_size(int64_t n, int64_t k, int64_t stride, int64_t dilation, AxisPad p) {
  const int64_t span = n + p.before + p.after - effective_kernel(k, dilation);
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace asn::kernels
