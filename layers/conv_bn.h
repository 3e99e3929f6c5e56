// ConvBn: Conv -> BatchNorm (-> ReLU), the unit every block and stem is made of.
#pragma once

#include "layers/batch_norm.h"
#include "layers/conv.h"

namespace asn::layers {

class ConvBn {
 public:
  ConvBn() = default;
  // Parameters `<name>/conv/kernel` and `<name>/bn/...`.
  ConvBn(ag::Parameters& ps, const std::string& name, const ConvSpec& spec, bool relu,
         bool zero_gamma = false, ag::Initializer init = {});

  ag::Variable forward(const ag::Variable& x, bool training) const;
  Shape output_shape(const Shape& x) const { return conv_.output_shape(x); }
  int64_t macs(const Shape& x) const { return conv_.macs(x); }
  const Conv& conv() const { return conv_; }

 private:
  Conv conv_;
  BatchNorm bn_;
  bool relu_ = true;
};

}  // namespace asn::layers
