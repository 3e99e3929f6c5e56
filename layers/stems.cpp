// Stems (see stems.h).
#include "layers/stems.h"

#include <algorithm>

#include "autograd/functions/pool.h"

namespace asn::layers {

namespace {
kernels::Pool3dParams spatial_pool(const Shape& x, int64_t k, int64_t s) {
  return kernels::Pool3dParams::same({1, k, k}, {1, s, s}, {x[1], x[2], x[3]});
}
Shape pooled_shape(const Shape& x, int64_t k, int64_t s) {
  const kernels::Pool3dParams p = spatial_pool(x, k, s);
  Shape y = x;
  for (int a = 0; a < 3; ++a) y[a + 1] = kernels::padded_out_size(x[a + 1], p.kernel[a], p.stride[a], 1, p.pad[a]);
  return y;
}
}  // namespace

RgbStem::RgbStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters, int64_t d) {
  d = std::max<int64_t>(d, 1);
  spatial_ = ConvBn(ps, name + "/conv_0", {cin, filters, {1, 7, 7}, {1, 2, 2}, {1, 1, 1}, Padding::Fixed}, true);
  temporal_ = ConvBn(ps, name + "/conv_1", {filters, filters, {5, 1, 1}, {1, 1, 1}, {d, 1, 1}, Padding::Same}, true,
                     false, d > 1 ? dilated_temporal_init(5, filters) : ag::Initializer());
}

ag::Variable RgbStem::forward(const ag::Variable& x, bool training) const {
  ag::Variable y = temporal_.forward(spatial_.forward(x, training), training);
  return ag::max_pool3d(y, spatial_pool(y.shape(), 3, 2));
}

Shape RgbStem::output_shape(const Shape& x) const {
  return pooled_shape(temporal_.output_shape(spatial_.output_shape(x)), 3, 2);
}

int64_t RgbStem::macs(const Shape& x) const {
  return spatial_.macs(x) + temporal_.macs(spatial_.output_shape(x));
}

FlowStem::FlowStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters) {
  spatial_ = ConvBn(ps, name + "/conv_0", {cin, filters, {1, 7, 7}, {1, 2, 2}, {1, 1, 1}, Padding::Fixed}, true);
}

ag::Variable FlowStem::forward(const ag::Variable& flow, bool training) const {
  ag::Variable y = spatial_.forward(flow, training);
  return ag::max_pool3d(y, spatial_pool(y.shape(), 2, 2));
}

Shape FlowStem::output_shape(const Shape& x) const { return pooled_shape(spatial_.output_shape(x), 2, 2); }
int64_t FlowStem::macs(const Shape& x) const { return spatial_.macs(x); }

ag::Variable ObjectStem::forward(const ag::Variable& objects) const {
  return ag::max_pool3d(objects, spatial_pool(objects.shape(), 4, 4));
}
Shape ObjectStem::output_shape(const Shape& x) const { return pooled_shape(x, 4, 4); }

LiteStem::LiteStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters, int64_t d) {
  d = std::max<int64_t>(d, 1);
  spatial_ = ConvBn(ps, name + "/conv_0", {cin, filters, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, Padding::Same}, true);
  temporal_ = ConvBn(ps, name + "/conv_1", {filters, filters, {3, 1, 1}, {1, 1, 1}, {d, 1, 1}, Padding::Same}, true,
                     false, d > 1 ? dilated_temporal_init(3, filters) : ag::Initializer());
}

ag::Variable LiteStem::forward(const ag::Variable& x, bool training) const {
  return temporal_.forward(spatial_.forward(x, training), training);
}

Shape LiteStem::output_shape(const Shape& x) const { return temporal_.output_shape(spatial_.output_shape(x)); }

int64_t LiteStem::macs(const Shape& x) const {
  return spatial_.macs(x) + temporal_.macs(spatial_.output_shape(x));
}

}  // namespace asn::layers
