// Variable: a tensor that autograd tracks. A handle to shared state (value, gradient, flags), so
// copies of a Variable refer to the same node of the computation.
//
// Leaves are variables nobody computed (parameters, inputs); their gradients survive backward().
// Non-leaves are op outputs; their gradients are released as soon as the tape has used them.
//
// The state has two halves: the value, and a GradSlot (gradient, flags, name, and the value's
// shape / dtype / device). The tape holds only the slots of the variables it routes gradients
// through, never their values: an activation stays alive after the forward pass only while some
// op's backward saved it (or the caller still holds the Variable). An add or a ReLU input that no
// backward reads is freed as soon as the forward pass lets go of it.
#pragma once

#include <memory>
#include <string>

#include "engine/tensor.h"

namespace asn::ag {

class Recomputable;  // autograd/recompute.h

struct GradSlot {
  Tensor grad;  // undefined until a gradient arrives (parameters: a view into the flat grad buffer)
  bool requires_grad = false;
  bool is_leaf = true;
  std::string name;
  // The value's metadata, kept in step with it by Variable: zero gradients and checks need it.
  Shape shape;
  DType dtype = DType::f32;
  Device device;
};

struct VariableState {
  Tensor value;
  std::shared_ptr<GradSlot> slot;  // never null
  // How to rebuild the value from tensors saved elsewhere (memory-saving mode); usually null.
  std::shared_ptr<Recomputable> recompute;
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = {});

  bool defined() const { return state_ != nullptr; }
  const Tensor& value() const;
  const Tensor& grad() const;
  bool has_grad() const { return defined() && state_->slot->grad.defined(); }
  bool requires_grad() const { return defined() && state_->slot->requires_grad; }
  bool is_leaf() const { return defined() && state_->slot->is_leaf; }
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
  // Set by ops whose output can be rebuilt cheaply in backward (autograd/recompute.h); null
  // otherwise. An op that would save this Variable's value may save the Recomputable instead.
  const std::shared_ptr<Recomputable>& recomputable() const;
  void set_recomputable(std::shared_ptr<Recomputable> r);
  // The gradient half, shared with the tape (see the file comment).
  const std::shared_ptr<GradSlot>& slot() const;

 private:
  std::shared_ptr<VariableState> state_;
};

}  // namespace asn::ag
