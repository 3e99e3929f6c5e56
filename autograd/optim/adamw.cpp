// AdamW optimizer (autograd/optim/adamw.h): option checks and dispatch to the kernels/optim step.
#include "autograd/optim/adamw.h"

#include <cmath>

#include "autograd/checks.h"
#include "kernels/dispatch.h"
#include "kernels/optim/adamw.h"

namespace asn::ag {

AdamW::AdamW(Parameters& params, const AdamwOptions& options)
    : Optimizer(params), options_(options) {
  auto in_unit = [](double b) { return std::isfinite(b) && b >= 0 && b < 1; };
  ASN_CHECK(in_unit(options.beta1), "adamw: beta1 must be in [0, 1), got {}", options.beta1);
  ASN_CHECK(in_unit(options.beta2), "adamw: beta2 must be in [0, 1), got {}", options.beta2);
  ASN_CHECK(std::isfinite(options.eps) && options.eps > 0, "adamw: eps must be > 0, got {}",
            options.eps);
  ASN_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0,
            "adamw: weight_decay must be finite and >= 0, got {}", options.weight_decay);
  exp_avg_ = zeros_like_values();
  exp_avg_sq_ = zeros_like_values();
}

std::vector<std::pair<std::string, Tensor>> AdamW::state_tensors() const {
  return {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}};
}

void AdamW::apply(double lr, int64_t step) {
  Parameters& ps = parameters();
  Tensor& w = ps.values();
  const Tensor& g = ps.grads();
#ifndef ASN_WITH_CUDA
  if (w.device().is_cuda()) throw_no_cuda(name());
#endif
  kernels::AdamwParams p;
  p.lr = lr;
  p.beta1 = options_.beta1;
  p.beta2 = options_.beta2;
  p.eps = options_.eps;
  p.weight_decay = options_.weight_decay;
  p.step = step;
  kernels::dispatch_float(name(), w.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (w.device().is_cuda()) {
      kernels::adamw_step_cuda<T>(p, w.numel(), ps.decay_count(), w.data<T>(), g.data<T>(),
                                  exp_avg_.data<T>(), exp_avg_sq_.data<T>(), w.device().index);
      return;
    }
#endif
    kernels::adamw_step_cpu<T>(p, w.numel(), ps.decay_count(), w.data<T>(), g.data<T>(),
                               exp_avg_.data<T>(), exp_avg_sq_.data<T>());
  });
}

}  // namespace asn::ag
