// Window geometry shared by max_pool3d and avg_pool3d on channels-last (N, T, H, W, C) tensors.
//
// A pooling window has a size, a stride and an explicit padding (before / after) per axis
// (T, H, W); the channels are pooled independently. The helpers build the two paddings the
// reference uses (kernels/common/padding.h):
//   same:  TF "SAME": out = ceil(n / s), the extra pad goes after (3x3/2 on 8: pad 0/1, out 4;
//          3x3/2 on 7: pad 1/1, out 4; 2x2/2 on 7: pad 0/1, out 4; 4x4/4 on 9: pad 1/2, out 3)
//   valid: no padding, out = floor((n - k) / s) + 1
// Padded positions never contribute: max pool treats them as -inf, avg pool leaves them out of
// the divisor. Every output window must therefore overlap the input on every axis; a padding
// that would put a whole window in the padding is rejected by make_pool3d_geometry (it cannot
// happen with SAME, only with hand-written pads >= kernel).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/tensor.h"
#include "kernels/common/padding.h"

namespace asn::kernels {

struct Pool3dParams {
  int64_t kernel[3] = {1, 1, 1};  // (kT, kH, kW)
  int64_t stride[3] = {1, 1, 1};  // (sT, sH, sW)
  AxisPad pad[3] = {};            // (T, H, W), before / after

  // TF SAME padding for an input whose (T, H, W) sizes are `in_dims`.
  static Pool3dParams same(const std::array<int64_t, 3>& kernel,
                           const std::array<int64_t, 3>& stride,
                           const std::array<int64_t, 3>& in_dims);
  // No padding.
  static Pool3dParams valid(const std::array<int64_t, 3>& kernel,
                            const std::array<int64_t, 3>& stride);
  // "kernel (1, 3, 3) stride (1, 2, 2) pad (0/0, 0/1, 0/1)" for error messages.
  std::string str() const;
};

// The sizes a pooling kernel works with, validated once by make_pool3d_geometry.
struct Pool3dGeometry {
  int64_t N = 0, T = 0, H = 0, W = 0, C = 0;  // input (N, T, H, W, C)
  int64_t To = 0, Ho = 0, Wo = 0;             // output (N, To, Ho, Wo, C)
  Pool3dParams p;
};

// Checks `params` against the input `x` (rank 5, channels-last) and computes the output sizes.
// Throws (naming `op`, the input and the parameters) on rank != 5, kernel/stride < 1, negative
// padding, an empty input axis, or a window lying entirely in the padding.
Pool3dGeometry make_pool3d_geometry(const char* op, const Tensor& x, const Pool3dParams& params);

// (N, To, Ho, Wo, C).
inline Shape pool3d_output_shape(const Pool3dGeometry& g) {
  return Shape{g.N, g.To, g.Ho, g.Wo, g.C};
}

}  // namespace asn::kernels
