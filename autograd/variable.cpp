// Variable accessors.
#include "autograd/variable.h"

namespace asn::ag {

Variable::Variable(Tensor value, bool requires_grad, std::string name)
    : state_(std::make_shared<VariableState>()) {
  state_->slot = std::make_shared<GradSlot>();
  state_->slot->requires_grad = requires_grad;
  state_->slot->name = std::move(name);
  set_value(std::move(value));
}

const Tensor& Variable::value() const {
  ASN_CHECK(defined(), "value() of an undefined Variable");
  return state_->value;
}

const Tensor& Variable::grad() const {
  ASN_CHECK(defined(), "grad() of an undefined Variable");
  return state_->slot->grad;
}

const std::string& Variable::name() const {
  ASN_CHECK(defined(), "name() of an undefined Variable");
  return state_->slot->name;
}

const std::shared_ptr<GradSlot>& Variable::slot() const {
  ASN_CHECK(defined(), "slot() of an undefined Variable");
  return state_->slot;
}

void Variable::set_value(Tensor v) {
  ASN_CHECK(defined(), "set_value() of an undefined Variable");
  state_->value = std::move(v);
  GradSlot& s = *state_->slot;
  s.shape = state_->value.shape();
  s.dtype = state_->value.dtype();
  s.device = state_->value.device();
}

const std::shared_ptr<Recomputable>& Variable::recomputable() const {
  ASN_CHECK(defined(), "recomputable() of an undefined Variable");
  return state_->recompute;
}

void Variable::set_recomputable(std::shared_ptr<Recomputable> r) {
  ASN_CHECK(defined(), "set_recomputable() of an undefined Variable");
  state_->recompute = std::move(r);
}

void Variable::set_grad(Tensor g) {
  ASN_CHECK(defined(), "set_grad() of an undefined Variable");
  state_->slot->grad = std::move(g);
}

void Variable::set_requires_grad(bool r) {
  ASN_CHECK(defined(), "set_requires_grad() of an undefined Variable");
  state_->slot->requires_grad = r;
}

void Variable::set_name(std::string n) {
  ASN_CHECK(defined(), "set_name() of an undefined Variable");
  state_->slot->name = std::move(n);
}

void Variable::zero_grad() {
  if (!defined()) return;
  state_->slot->grad = Tensor();
}

void Variable::mark_non_leaf() {
  ASN_CHECK(defined(), "mark_non_leaf() of an undefined Variable");
  state_->slot->is_leaf = false;
}

}  // namespace asn::ag
