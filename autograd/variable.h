// Variable: a tensor that autograd tracks. A handle to shared state (value, gradient, flags), so
// copies of a Variable refer to the same node of the computation.
//
// Leaves are variables nobody computed (parameters, inputs); their gradients survive backward().
// Non-leaves are op outputs; their gradients are released as soon as the tape has used them.
#pragma once

#include <memory>
#include <string>

#include "engine/tensor.h"

namespace asn::ag {

struct VariableState {
  Tensor value;
  Tensor grad;  // undefined until a gradient arrives (parameters: a view into the flat grad buffer)
  bool requires_grad = false;
  bool is_leaf = true;
  std::string name;
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = {});

  bool defined() const { return state_ != nullptr; }
  const Tensor& value() const;
  const Tensor& grad() const;
  bool has_grad() const { return defined() && state_->grad.defined(); }
  bool requires_grad() const { return defined() && state_->requires_grad; }
  bool is_leaf() const { return defined() && state_->is_leaf; }
  const std::string& name() const;

  const Shape& shape() const { return value().shape(); }
  DType dtype() const { return value().dtype(); }
  Device device() const { return value().device(); }
  int64_t numel() const { return value().numel(); }
  int rank() const { return value().rank(); }

  // Replaces the value (the parameter store points parameters into its flat buffer).
  void set_value(Tensor v);
  void set_grad(Tensor g);
  void set_requires_grad(bool r);
  void set_name(std::string n);
  // Drops the gradient (parameters are zeroed through their flat buffer instead: Parameters).
  void zero_grad();
  void mark_non_leaf();

  bool same_as(const Variable& o) const { return state_ == o.state_; }
  VariableState* state() const { return state_.get(); }

 private:
  std::shared_ptr<VariableState> state_;
};

}  // namespace asn::ag
