// Conv: a bias-free 3-D convolution layer in (N, T, H, W, C), as every conv of the reference is.
//
// Padding follows the reference: `Same` is TF SAME (also when strided; the 5-D/Lite convs), `Fixed`
// is conv2d_fixed_padding (the strided 2-D convs of AssembleNet / AssembleNet++): symmetric
// (k-1)//2 before, the rest after, then VALID. Kernel layout (Cout, kT, kH, kW, Cin).
// Default initialiser: TF variance_scaling (scale 1, fan_in = kT*kH*kW*Cin, truncated normal).
#pragma once

#include <string>

#include "autograd/parameters.h"
#include "kernels/conv/conv3d.h"

namespace asn::layers {

enum class Padding { Same, Fixed };

struct ConvSpec {
  int64_t cin = 0;
  int64_t cout = 0;
  kernels::Dims3 kernel{1, 1, 1};    // (kT, kH, kW)
  kernels::Dims3 stride{1, 1, 1};    // (sT, sH, sW)
  kernels::Dims3 dilation{1, 1, 1};  // (dT, dH, dW)
  Padding padding = Padding::Same;
};

class Conv {
 public:
  Conv() = default;
  // Declares `<name>/kernel`. An empty `init` uses variance scaling.
  Conv(ag::Parameters& ps, const std::string& name, const ConvSpec& spec, ag::Initializer init = {});

  // x (N, T, H, W, cin) -> (N, To, Ho, Wo, cout).
  ag::Variable forward(const ag::Variable& x) const;
  Shape output_shape(const Shape& x) const;
  // Multiply-accumulates of one forward pass on an input of shape x.
  int64_t macs(const Shape& x) const;

  const ConvSpec& spec() const { return spec_; }
  const ag::Variable& kernel() const { return kernel_; }

 private:
  kernels::Conv3dParams params_for(const Shape& x) const;

  ConvSpec spec_;
  ag::Variable kernel_;
};

// The reference's initialiser for temporal convs with dilation > 1 (a bare tf.Variable):
// truncated normal, mean 0, std sqrt(2 / (k * cin)).
ag::Initializer dilated_temporal_init(int64_t k, int64_t cin);

}  // namespace asn::layers
