// BatchNorm: batch normalisation over every axis but the channels (N*T*H*W), optionally followed
// by ReLU in one fused op, with the reference's settings: momentum 0.99 (TF convention: moving =
// 0.99 * moving + 0.01 * batch), epsilon 1e-5, gamma init 1 (or 0 for the last BN of a residual
// branch, "init_zero"), beta 0, moving mean 0, moving variance 1.
//
// Parameters: `<name>/gamma`, `<name>/beta` (trainable, no weight decay);
// buffers `<name>/moving_mean`, `<name>/moving_variance`.
#pragma once

#include <string>

#include "autograd/parameters.h"

namespace asn::layers {

class BatchNorm {
 public:
  BatchNorm() = default;
  BatchNorm(ag::Parameters& ps, const std::string& name, int64_t channels, bool zero_gamma = false);

  // Training: batch statistics, and the moving statistics are updated in place.
  // Evaluation: the moving statistics.
  ag::Variable forward(const ag::Variable& x, bool training, bool relu) const;
  int64_t channels() const { return channels_; }

 private:
  int64_t channels_ = 0;
  ag::Variable gamma_, beta_, moving_mean_, moving_var_;
};

}  // namespace asn::layers
