// Variable accessors.
#include "autograd/variable.h"

namespace asn::ag {

Variable::Variable(Tensor value, bool requires_grad, std::string name)
    : state_(std::make_shared<VariableState>()) {
  state_->value = std::move(value);
  state_->requires_grad = requires_grad;
  state_->name = std::move(name);
}

const Tensor& Variable::value() const {
  ASN_CHECK(defined(), "value() of an undefined Variable");
  return state_->value;
}

const Tensor& Variable::grad() const {
  ASN_CHECK(defined(), "grad() of an undefined Variable");
  return state_->grad;
}

const std::string& Variable::name() const {
  ASN_CHECK(defined(), "name() of an undefined Variable");
  return state_->name;
}

void Variable::set_value(Tensor v) {
  ASN_CHECK(defined(), "set_value() of an undefined Variable");
  state_->value = std::move(v);
}

void Variable::set_grad(Tensor g) {
  ASN_CHECK(defined(), "set_grad() of an undefined Variable");
  state_->grad = std::move(g);
}

void Variable::set_requires_grad(bool r) {
  ASN_CHECK(defined(), "set_requires_grad() of an undefined Variable");
  state_->requires_grad = r;
}

void Variable::set_name(std::string n) {
  ASN_CHECK(defined(), "set_name() of an undefined Variable");
  state_->name = std::move(n);
}

void Variable::zero_grad() {
  if (!defined()) return;
  state_->grad = Tensor();
}

void Variable::mark_non_leaf() {
  ASN_CHECK(defined(), "mark_non_leaf() of an undefined Variable");
  state_->is_leaf = false;
}

}  // namespace asn::ag
