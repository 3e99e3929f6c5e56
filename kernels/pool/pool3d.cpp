// Pooling window geometry: SAME / VALID helpers and validation (see pool3d.h).
#include "kernels/pool/pool3d.h"

#include <fmt/format.h>

namespace asn::kernels {

Pool3dParams Pool3dParams::same(const std::array<int64_t, 3>& kernel,
                                const std::array<int64_t, 3>& stride,
                                const std::array<int64_t, 3>& in_dims) {
  Pool3dParams p;
  for (int a = 0; a < 3; ++a) {
    p.kernel[a] = kernel[static_cast<size_t>(a)];
    p.stride[a] = stride[static_cast<size_t>(a)];
    // same_padding divides by the stride: leave a bad stride for make_pool3d_geometry to report.
    p.pad[a] = p.stride[a] >= 1
                   ? same_padding(in_dims[static_cast<size_t>(a)], p.kernel[a], p.stride[a], 1)
                   : AxisPad{};
  }
  return p;
}

Pool3dParams Pool3dParams::valid(const std::array<int64_t, 3>& kernel,
                                 const std::array<int64_t, 3>& stride) {
  Pool3dParams p;
  for (int a = 0; a < 3; ++a) {
    p.kernel[a] = kernel[static_cast<size_t>(a)];
    p.stride[a] = stride[static_cast<size_t>(a)];
  }
  return p;
}

std::string Pool3dParams::str() const {
  return fmt::format("kernel ({}, {}, {}) stride ({}, {}, {}) pad ({}/{}, {}/{}, {}/{})", kernel[0],
                     kernel[1], kernel[2], stride[0], stride[1], stride[2], pad[0].before,
                     pad[0].after, pad[1].before, pad[1].after, pad[2].before, pad[2].after);
}

Pool3dGeometry make_pool3d_geometry(const char* op, const Tensor& x, const Pool3dParams& params) {
  ASN_CHECK_SHAPE(x.rank() == 5, "{}: input must have rank 5 (N, T, H, W, C), got {}", op,
                  describe(x));
  static const char* const kAxis[3] = {"T", "H", "W"};
  Pool3dGeometry g;
  g.N = x.dim(0);
  g.T = x.dim(1);
  g.H = x.dim(2);
  g.W = x.dim(3);
  g.C = x.dim(4);
  g.p = params;
  const int64_t in[3] = {g.T, g.H, g.W};
  int64_t out[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    const int64_t k = params.kernel[a], s = params.stride[a];
    const AxisPad pad = params.pad[a];
    ASN_CHECK(k >= 1 && s >= 1 && pad.before >= 0 && pad.after >= 0,
              "{}: {} is invalid on axis {} (kernel and stride must be >= 1, padding >= 0) for "
              "input {}",
              op, params.str(), kAxis[a], describe(x));
    ASN_CHECK_SHAPE(in[a] >= 1, "{}: input {} has an empty {} axis", op, describe(x), kAxis[a]);
    out[a] = padded_out_size(in[a], k, s, 1, pad);
    ASN_CHECK_SHAPE(out[a] >= 1,
                    "{}: the window does not fit on axis {} of input {} ({}: padded length {} < "
                    "kernel {})",
                    op, kAxis[a], describe(x), params.str(), in[a] + pad.before + pad.after, k);
    // Windows move monotonically: if the first and the last overlap the input, all do.
    const int64_t first_end = k - pad.before;  // exclusive end of window 0
    const int64_t last_begin = (out[a] - 1) * s - pad.before;
    ASN_CHECK(first_end > 0 && last_begin < in[a],
              "{}: {} puts a whole window in the padding on axis {} of input {} (padding must be "
              "smaller than the kernel)",
              op, params.str(), kAxis[a], describe(x));
  }
  g.To = out[0];
  g.Ho = out[1];
  g.Wo = out[2];
  return g;
}

}  // namespace asn::kernels
