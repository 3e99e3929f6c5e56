// Optimizer base (autograd/optim/optimizer.h): argument checks, step counting, state restore.
#include "autograd/optim/optimizer.h"

#include <cmath>

#include "autograd/tape.h"

namespace asn::ag {

Optimizer::Optimizer(Parameters& params) : params_(params) {
  ASN_CHECK(params.finalized(),
            "optimizer: the parameters must be finalized before an optimizer "
            "is created over them");
}

void Optimizer::set_step_count(int64_t n) {
  ASN_CHECK(n >= 0, "{}: step count must be >= 0, got {}", name(), n);
  step_count_ = n;
}

Tensor Optimizer::zeros_like_values() const {
  const Tensor& v = params_.values();
  return Tensor::zeros(Shape{params_.num_trainable()}, v.dtype(), v.device());
}

void Optimizer::check_state(const char* what, const Tensor& state) const {
  const Tensor& v = params_.values();
  ASN_CHECK_TYPE(
      state.dtype() == v.dtype() && state.device() == v.device() && state.numel() == v.numel(),
      "{}: state '{}' is {} but the parameters are {} (create the optimizer after "
      "Parameters::to())",
      name(), what, describe(state), describe(v));
}

void Optimizer::step(double lr) {
  OpScope scope(name());
  ASN_CHECK(std::isfinite(lr) && lr >= 0, "{}: learning rate must be finite and >= 0, got {}",
            name(), lr);
  Tensor& values = params_.values();
  Tensor& grads = params_.grads();
  ASN_CHECK_TYPE(values.defined() && grads.defined(), "{}: parameters have no flat buffers",
                 name());
  ASN_CHECK_TYPE(grads.dtype() == values.dtype() && grads.device() == values.device() &&
                     grads.numel() == values.numel(),
                 "{}: gradients {} do not match values {}", name(), describe(grads),
                 describe(values));
  for (const auto& [n, t] : state_tensors()) check_state(n.c_str(), t);
  NoGradGuard no_grad;
  apply(lr, step_count_ + 1);
  ++step_count_;
}

void Optimizer::load_state_tensors(const std::vector<std::pair<std::string, Tensor>>& saved) {
  const auto own = state_tensors();
  for (const auto& [sname, st] : saved) {
    int found = 0;
    for (const auto& [oname, ot] : own) found += oname == sname ? 1 : 0;
    ASN_CHECK(found == 1,
              "{}: unknown optimizer state '{}' (this optimizer holds {} state tensors)", name(),
              sname, own.size());
  }
  for (const auto& [oname, ot] : own) {
    const Tensor* src = nullptr;
    int count = 0;
    for (const auto& [sname, st] : saved) {
      if (sname == oname) {
        src = &st;
        ++count;
      }
    }
    ASN_CHECK(count > 0, "{}: optimizer state '{}' is missing from the saved state", name(), oname);
    ASN_CHECK(count == 1, "{}: optimizer state '{}' appears {} times in the saved state", name(),
              oname, count);
    ASN_CHECK(src->defined() && src->numel() == ot.numel(),
              "{}: saved optimizer state '{}' is {} but the state holds {} elements", name(), oname,
              src->defined() ? describe(*src) : std::string("undefined"), ot.numel());
    Tensor dst = ot;
    dst.copy_from(src->dtype() == dst.dtype() ? *src : src->to(dst.dtype()));
  }
}

}  // namespace asn::ag
