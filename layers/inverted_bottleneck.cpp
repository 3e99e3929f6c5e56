// AssembleNet++Lite inverted-bottleneck blocks (see inverted_bottleneck.h).
#include "layers/inverted_bottleneck.h"

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"

namespace asn::layers {

InvertedBottleneckBlock::InvertedBottleneckBlock(ag::Parameters& ps, const std::string& name,
                                                 const InvertedBottleneckSpec& s, bool first) {
  const int64_t stride = first ? s.stride : 1;
  projection_ = first;
  strided_ = stride > 1;
  const int64_t f0 = s.filters[0], f1 = s.filters[1], f2 = s.filters[2], d = s.temporal_dilation;
  if (projection_) {
    shortcut_ = ConvBn(ps, name + "/shortcut", {s.cin, f2, {1, 1, 1}, {1, stride, stride}, {1, 1, 1}, Padding::Same},
                       /*relu=*/false);
  }
  expand_ = ConvBn(ps, name + "/expand", {s.cin, f0, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same}, true);
  if (strided_) {
    spatial_ = ConvBn(ps, name + "/spatial", {f0, f1, {1, 3, 3}, {1, stride, stride}, {1, 1, 1}, Padding::Same}, true);
    temporal_ = ConvBn(ps, name + "/temporal", {f1, f1, {3, 1, 1}, {1, 1, 1}, {d, 1, 1}, Padding::Same}, true, false,
                       d > 1 ? dilated_temporal_init(3, f1) : ag::Initializer());
  } else {
    spatial_ = ConvBn(ps, name + "/spatiotemporal", {f0, f1, {3, 3, 3}, {1, 1, 1}, {d, 1, 1}, Padding::Same}, true);
  }
  project_ = ConvBn(ps, name + "/project", {f1, f2, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same},
                    /*relu=*/false, /*zero_gamma=*/true);
}

ag::Variable InvertedBottleneckBlock::forward(const ag::Variable& x, bool training) const {
  ag::Variable sc = projection_ ? shortcut_.forward(x, training) : x;
  ag::Variable y = spatial_.forward(expand_.forward(x, training), training);
  if (strided_) y = temporal_.forward(y, training);
  y = project_.forward(y, training);
  return ag::relu(ag::add(y, sc));
}

Shape InvertedBottleneckBlock::output_shape(const Shape& x) const {
  Shape y = spatial_.output_shape(expand_.output_shape(x));
  if (strided_) y = temporal_.output_shape(y);
  y = project_.output_shape(y);
  ASN_CHECK_SHAPE(y == (projection_ ? shortcut_.output_shape(x) : x),
                  "inverted bottleneck block: residual {} does not match shortcut for input {}", y.str(), x.str());
  return y;
}

int64_t InvertedBottleneckBlock::macs(const Shape& x) const {
  const Shape ye = expand_.output_shape(x), ys = spatial_.output_shape(ye);
  int64_t m = (projection_ ? shortcut_.macs(x) : 0) + expand_.macs(x) + spatial_.macs(ye);
  Shape yt = ys;
  if (strided_) {
    m += temporal_.macs(ys);
    yt = temporal_.output_shape(ys);
  }
  return m + project_.macs(yt);
}

InvertedBottleneckGroup::InvertedBottleneckGroup(ag::Parameters& ps, const std::string& name,
                                                 const InvertedBottleneckSpec& spec, int count) {
  ASN_CHECK(count >= 1, "block group '{}': needs at least one block, got {}", name, count);
  InvertedBottleneckSpec s = spec;
  for (int k = 0; k < count; ++k) {
    blocks_.emplace_back(ps, fmt::format("{}/block_{}", name, k), s, k == 0);
    s.cin = s.filters[2];
  }
}

}  // namespace asn::layers
