// BatchNorm layer (see batch_norm.h).
#include "layers/batch_norm.h"

#include "autograd/functions/batch_norm.h"

namespace asn::layers {

BatchNorm::BatchNorm(ag::Parameters& ps, const std::string& name, int64_t channels, bool zero_gamma)
    : channels_(channels) {
  const ag::ParamOptions no_decay{true, false};
  gamma_ = ps.add(name + "/gamma", Shape{channels}, zero_gamma ? ag::init::zeros() : ag::init::ones(), no_decay);
  beta_ = ps.add(name + "/beta", Shape{channels}, ag::init::zeros(), no_decay);
  moving_mean_ = ps.add_buffer(name + "/moving_mean", Shape{channels}, ag::init::zeros());
  moving_var_ = ps.add_buffer(name + "/moving_variance", Shape{channels}, ag::init::ones());
}

ag::Variable BatchNorm::forward(const ag::Variable& x, bool training, bool relu) const {
  ag::BatchNormOptions opt;
  opt.training = training;
  opt.momentum = 0.99;
  opt.eps = 1e-5;
  return relu ? ag::batch_norm_relu(x, gamma_, beta_, moving_mean_, moving_var_, opt)
              : ag::batch_norm(x, gamma_, beta_, moving_mean_, moving_var_, opt);
}

}  // namespace asn::layers
