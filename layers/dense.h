// Dense: y (..., cout) = x (..., cin) W^T + b, kernel (cout, cin), bias (cout,). The reference
// initialises every dense of the heads and attention with N(0, 0.01) kernels and zero biases.
#pragma once

#include <string>

#include "autograd/parameters.h"

namespace asn::layers {

class Dense {
 public:
  Dense() = default;
  // Parameters `<name>/kernel` (weight decay) and `<name>/bias` (no decay).
  Dense(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t cout, double init_std = 0.01);

  ag::Variable forward(const ag::Variable& x) const;
  Shape output_shape(const Shape& x) const { return x.with(-1, cout_); }
  int64_t macs(const Shape& x) const { return x.numel() / cin_ * cin_ * cout_; }
  int64_t cin() const { return cin_; }
  int64_t cout() const { return cout_; }

 private:
  int64_t cin_ = 0, cout_ = 0;
  ag::Variable kernel_, bias_;
};

}  // namespace asn::layers
