// AdamW: Adam with decoupled weight decay, exactly PyTorch's torch.optim.AdamW (amsgrad off; the
// maths: kernels/optim/adamw.h). Decay multiplies the decay range of the flat parameters by
// (1 - lr * wd) before the Adam update; the other elements are never decayed.
#pragma once

#include "autograd/optim/optimizer.h"

namespace asn::ag {

struct AdamwOptions {
  double beta1 = 0.9;          // in [0, 1)
  double beta2 = 0.999;        // in [0, 1)
  double eps = 1e-8;           // > 0
  double weight_decay = 1e-2;  // decoupled, >= 0 (PyTorch's default)
};

class AdamW : public Optimizer {
 public:
  AdamW(Parameters& params, const AdamwOptions& options);
  const char* name() const override { return "adamw"; }
  // {"exp_avg": m, "exp_avg_sq": v}, each (num_trainable,) (PyTorch's names).
  std::vector<std::pair<std::string, Tensor>> state_tensors() const override;
  const AdamwOptions& options() const { return options_; }

 protected:
  void apply(double lr, int64_t step) override;

 private:
  AdamwOptions options_;
  Tensor exp_avg_, exp_avg_sq_;
};

}  // namespace asn::ag
