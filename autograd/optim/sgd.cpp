// SGD optimizer (autograd/optim/sgd.h): option checks and dispatch to the kernels/optim step.
#include "autograd/optim/sgd.h"

#include <cmath>

#include "autograd/checks.h"
#include "kernels/dispatch.h"
#include "kernels/optim/sgd.h"

namespace asn::ag {

Sgd::Sgd(Parameters& params, const SgdOptions& options) : Optimizer(params), options_(options) {
  ASN_CHECK(std::isfinite(options.momentum) && options.momentum >= 0 && options.momentum < 1,
            "sgd: momentum must be in [0, 1), got {}", options.momentum);
  ASN_CHECK(!options.nesterov || options.momentum > 0, "sgd: nesterov needs momentum > 0");
  ASN_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0,
            "sgd: weight_decay must be finite and >= 0, got {}", options.weight_decay);
  if (options.momentum > 0) momentum_buffer_ = zeros_like_values();
}

std::vector<std::pair<std::string, Tensor>> Sgd::state_tensors() const {
  if (!momentum_buffer_.defined()) return {};
  return {{"momentum_buffer", momentum_buffer_}};
}

void Sgd::apply(double lr, int64_t /*step*/) {
  Parameters& ps = parameters();
  Tensor& w = ps.values();
  const Tensor& g = ps.grads();
#ifndef ASN_WITH_CUDA
  if (w.device().is_cuda()) throw_no_cuda(name());
#endif
  kernels::SgdParams p;
  p.lr = lr;
  p.momentum = options_.momentum;
  p.nesterov = options_.nesterov;
  p.weight_decay = options_.weight_decay;
  kernels::dispatch_float(name(), w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* buf = momentum_buffer_.defined() ? momentum_buffer_.data<T>() : nullptr;
#ifdef ASN_WITH_CUDA
    if (w.device().is_cuda()) {
      kernels::sgd_step_cuda<T>(p, w.numel(), ps.decay_count(), w.data<T>(), g.data<T>(), buf,
                                w.device().index);
      return;
    }
#endif
    kernels::sgd_step_cpu<T>(p, w.numel(), ps.decay_count(), w.data<T>(), g.data<T>(), buf);
  });
}

}  // namespace asn::ag
