// Conv3dParams: the padding rules (SAME, fixed, VALID), parameter validation and the output shape
// of a 3-D convolution on (N, T, H, W, C) inputs. See conv3d.h for the maths and the layouts.
#include <fmt/format.h>

#include "engine/error.h"
#include "kernels/conv/conv3d.h"

namespace asn::kernels {

Conv3dParams Conv3dParams::same(const Dims3& kernel, const Dims3& stride, const Dims3& dilation,
                                const Dims3& input) {
  Conv3dParams p;
  for (size_t a = 0; a < 3; ++a) {
    p.stride[a] = stride[a];
    p.dilation[a] = dilation[a];
    p.pad[a] = same_padding(input[a], kernel[a], stride[a], dilation[a]);
  }
  p.validate();
  return p;
}

Conv3dParams Conv3dParams::fixed(const Dims3& kernel, const Dims3& stride, const Dims3& dilation,
                                 const Dims3& input) {
  Conv3dParams p;
  for (size_t a = 0; a < 3; ++a) {
    p.stride[a] = stride[a];
    p.dilation[a] = dilation[a];
    if (stride[a] == 1) {
      p.pad[a] = same_padding(input[a], kernel[a], stride[a], dilation[a]);
    } else {
      p.pad[a] = fixed_padding(effective_kernel(kernel[a], dilation[a]));
    }
  }
  p.validate();
  return p;
}

Conv3dParams Conv3dParams::valid(const Dims3& stride, const Dims3& dilation) {
  Conv3dParams p;
  for (size_t a = 0; a < 3; ++a) {
    p.stride[a] = stride[a];
    p.dilation[a] = dilation[a];
  }
  p.validate();
  return p;
}

std::string Conv3dParams::str() const {
  return fmt::format("stride ({}, {}, {}), dilation ({}, {}, {}), pad ({}/{}, {}/{}, {}/{})",
                     stride[0], stride[1], stride[2], dilation[0], dilation[1], dilation[2],
                     pad[0].before, pad[0].after, pad[1].before, pad[1].after, pad[2].before,
                     pad[2].after);
}

namespace {
// What is wrong with the parameters ("" when nothing is).
std::string param_problem(const Conv3dParams& p) {
  static const char* const axes[3] = {"T", "H", "W"};
  for (int a = 0; a < 3; ++a) {
    if (p.stride[a] < 1)
      return fmt::format("stride along {} must be >= 1, got {}", axes[a], p.stride[a]);
    if (p.dilation[a] < 1)
      return fmt::format("dilation along {} must be >= 1, got {}", axes[a], p.dilation[a]);
    if (p.pad[a].before < 0 || p.pad[a].after < 0)
      return fmt::format("padding along {} must be >= 0, got {}/{}", axes[a], p.pad[a].before,
                         p.pad[a].after);
  }
  return {};
}
}  // namespace

void Conv3dParams::validate() const {
  const std::string problem = param_problem(*this);
  ASN_CHECK(problem.empty(), "conv3d: {} ({})", problem, str());
}

Shape Conv3dParams::output_shape(const Shape& x_shape, const Shape& w_shape) const {
  ASN_CHECK_SHAPE(x_shape.rank() == 5, "conv3d: input must have rank 5 (N, T, H, W, Cin), got {}",
                  x_shape.str());
  ASN_CHECK_SHAPE(w_shape.rank() == 5,
                  "conv3d: kernel must have rank 5 (Cout, kT, kH, kW, Cin), got {}", w_shape.str());
  ASN_CHECK_SHAPE(x_shape[4] == w_shape[4],
                  "conv3d: input {} and kernel {} disagree on input channels ({} vs {})",
                  x_shape.str(), w_shape.str(), x_shape[4], w_shape[4]);
  const std::string problem = param_problem(*this);
  ASN_CHECK(problem.empty(), "conv3d: {} ({}); input {}, kernel {}", problem, str(), x_shape.str(),
            w_shape.str());
  static const char* const axes[3] = {"T", "H", "W"};
  Shape y{x_shape[0], 0, 0, 0, w_shape[0]};
  for (int a = 0; a < 3; ++a) {
    const int64_t n = x_shape[1 + a];
    const int64_t k = w_shape[1 + a];
    ASN_CHECK_SHAPE(k >= 1, "conv3d: kernel {} has an empty window along {}", w_shape.str(),
                    axes[a]);
    const int64_t ext = effective_kernel(k, dilation[a]);
    ASN_CHECK_SHAPE(
        n + pad[a].before + pad[a].after >= ext,
        "conv3d: the window along {} (kernel {}, dilation {}: extent {}) is larger than "
        "the padded input ({} + {} + {}); input {}, kernel {}",
        axes[a], k, dilation[a], ext, n, pad[a].before, pad[a].after, x_shape.str(), w_shape.str());
    y[1 + a] = padded_out_size(n, k, stride[a], dilation[a], pad[a]);
  }
  return y;
}

int64_t conv3d_macs(const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p) {
  const Shape y = p.output_shape(x_shape, w_shape);
  return y.numel() * w_shape.prod(1, 5);
}

}  // namespace asn::kernels
