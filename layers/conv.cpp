// Conv layer (see conv.h).
#include "layers/conv.h"

#include <cmath>

#include "autograd/functions/conv3d.h"

namespace asn::layers {

Conv::Conv(ag::Parameters& ps, const std::string& name, const ConvSpec& spec, ag::Initializer init)
    : spec_(spec) {
  ASN_CHECK(spec.cin > 0 && spec.cout > 0, "conv layer '{}': channels {} -> {} must be positive", name,
            spec.cin, spec.cout);
  const int64_t fan_in = spec.kernel[0] * spec.kernel[1] * spec.kernel[2] * spec.cin;
  if (!init) init = ag::init::variance_scaling_fan_in(1.0, fan_in);
  kernel_ = ps.add(name + "/kernel",
                   Shape{spec.cout, spec.kernel[0], spec.kernel[1], spec.kernel[2], spec.cin}, init);
}

kernels::Conv3dParams Conv::params_for(const Shape& x) const {
  const kernels::Dims3 in{x[1], x[2], x[3]};
  return spec_.padding == Padding::Same
             ? kernels::Conv3dParams::same(spec_.kernel, spec_.stride, spec_.dilation, in)
             : kernels::Conv3dParams::fixed(spec_.kernel, spec_.stride, spec_.dilation, in);
}

ag::Variable Conv::forward(const ag::Variable& x) const {
  return ag::conv3d(x, kernel_, params_for(x.shape()));
}

Shape Conv::output_shape(const Shape& x) const {
  return params_for(x).output_shape(x, kernel_.shape());
}

int64_t Conv::macs(const Shape& x) const {
  const Shape y = output_shape(x);
  return y.numel() * spec_.cin * spec_.kernel[0] * spec_.kernel[1] * spec_.kernel[2];
}

ag::Initializer dilated_temporal_init(int64_t k, int64_t cin) {
  return ag::init::truncated_normal(0.0, std::sqrt(2.0 / static_cast<double>(k * cin)));
}

}  // namespace asn::layers
