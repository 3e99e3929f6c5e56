// AssembleNet bottleneck blocks (see bottleneck_block.h).
#include "layers/bottleneck_block.h"

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"

namespace asn::layers {

BottleneckBlock::BottleneckBlock(ag::Parameters& ps, const std::string& name, const BottleneckSpec& s,
                                 int step, bool projection)
    : projection_(projection) {
  const int64_t stride = step == 0 ? s.stride : 1;
  const int64_t out = 4 * s.filters;
  // Creation order follows the reference: shortcut first, then the main path.
  if (projection) {
    shortcut_ = ConvBn(ps, name + "/shortcut", {s.cin, out, {1, 1, 1}, {1, stride, stride}, {1, 1, 1}, Padding::Fixed},
                       /*relu=*/false);
  }
  if (step % 2 == 1) {
    const int64_t d = s.temporal_dilation;
    a_ = ConvBn(ps, name + "/conv_0", {s.cin, s.filters, {3, 1, 1}, {1, 1, 1}, {d, 1, 1}, Padding::Same},
                /*relu=*/true, false, d > 1 ? dilated_temporal_init(3, s.cin) : ag::Initializer());
  } else {
    a_ = ConvBn(ps, name + "/conv_0", {s.cin, s.filters, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Fixed}, true);
  }
  b_ = ConvBn(ps, name + "/conv_1", {s.filters, s.inter, {1, 3, 3}, {1, stride, stride}, {1, 1, 1}, Padding::Fixed},
              true);
  c_ = ConvBn(ps, name + "/conv_2", {s.inter, out, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Fixed},
              /*relu=*/false, /*zero_gamma=*/true);
}

ag::Variable BottleneckBlock::forward(const ag::Variable& x, bool training) const {
  ag::Variable sc = projection_ ? shortcut_.forward(x, training) : x;
  ag::Variable y = c_.forward(b_.forward(a_.forward(x, training), training), training);
  return ag::relu(ag::add(y, sc));
}

Shape BottleneckBlock::output_shape(const Shape& x) const {
  const Shape y = c_.output_shape(b_.output_shape(a_.output_shape(x)));
  ASN_CHECK_SHAPE(y == (projection_ ? shortcut_.output_shape(x) : x),
                  "bottleneck block: residual {} does not match shortcut for input {}", y.str(), x.str());
  return y;
}

int64_t BottleneckBlock::macs(const Shape& x) const {
  const Shape ya = a_.output_shape(x), yb = b_.output_shape(ya);
  return (projection_ ? shortcut_.macs(x) : 0) + a_.macs(x) + b_.macs(ya) + c_.macs(yb);
}

BottleneckGroup::BottleneckGroup(ag::Parameters& ps, const std::string& name, const BottleneckSpec& spec,
                                 int count) {
  ASN_CHECK(count >= 1, "block group '{}': needs at least one block, got {}", name, count);
  BottleneckSpec s = spec;
  for (int k = 0; k < count; ++k) {
    blocks_.emplace_back(ps, fmt::format("{}/block_{}", name, k), s, k, /*projection=*/k == 0);
    s.cin = 4 * s.filters;
  }
}

}  // namespace asn::layers
