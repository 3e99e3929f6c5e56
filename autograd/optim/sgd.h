// SGD with optional momentum (plain or Nesterov) and coupled L2 weight decay on the decay range of
// the flat parameters, in the TF / PyTorch form (the maths: kernels/optim/sgd.h):
//   g' = g + wd * w;  buf = momentum * buf + g';  w -= lr * buf   (nesterov: lr * (g' + m * buf))
// The recipes of the spec use momentum 0.9 (Kinetics-600: nesterov). momentum 0 is plain SGD and
// holds no state.
#pragma once

#include "autograd/optim/optimizer.h"

namespace asn::ag {

struct SgdOptions {
  double momentum = 0.9;      // in [0, 1)
  bool nesterov = false;      // needs momentum > 0
  double weight_decay = 0.0;  // coupled L2 coefficient, >= 0
};

class Sgd : public Optimizer {
 public:
  Sgd(Parameters& params, const SgdOptions& options);
  const char* name() const override { return "sgd"; }
  // {"momentum_buffer": (num_trainable,)} when momentum > 0, else nothing.
  std::vector<std::pair<std::string, Tensor>> state_tensors() const override;
  const SgdOptions& options() const { return options_; }

 protected:
  void apply(double lr, int64_t step) override;

 private:
  SgdOptions options_;
  Tensor momentum_buffer_;  // undefined when momentum == 0
};

}  // namespace asn::ag
