// ConvBn (see conv_bn.h).
#include "layers/conv_bn.h"

namespace asn::layers {

ConvBn::ConvBn(ag::Parameters& ps, const std::string& name, const ConvSpec& spec, bool relu,
               bool zero_gamma, ag::Initializer init)
    : conv_(ps, name + "/conv", spec, std::move(init)),
      bn_(ps, name + "/bn", spec.cout, zero_gamma),
      relu_(relu) {}

ag::Variable ConvBn::forward(const ag::Variable& x, bool training) const {
  return bn_.forward(conv_.forward(x), training, relu_);
}

}  // namespace asn::layers
