// Tape recording and the reverse pass.
#include "autograd/tape.h"

#include <fmt/format.h>

#include "kernels/tensor_ops.h"

namespace asn::ag {

namespace {
thread_local Tape t_tape;
thread_local bool t_grad_enabled = true;
}  // namespace

Tape& tape() { return t_tape; }
bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : scope_(t_grad_enabled, false) {}
EnableGradGuard::EnableGradGuard() : scope_(t_grad_enabled, true) {}

std::vector<Variable> record(const char* op, const std::vector<Variable>& inputs,
                             std::vector<Tensor> outputs, BackwardFn backward) {
  bool needs = false;
  if (t_grad_enabled) {
    for (const Variable& v : inputs) needs = needs || v.requires_grad();
  }
  std::vector<Variable> outs;
  outs.reserve(outputs.size());
  for (Tensor& t : outputs) {
    Variable v(std::move(t), needs);
    if (needs) v.mark_non_leaf();
    outs.push_back(v);
  }
  if (needs) {
    TapeNode node;
    node.op = op;
    node.inputs.reserve(inputs.size());
    // An undefined input (an absent optional operand) gets a slot that never needs a gradient.
    for (const Variable& v : inputs) node.inputs.push_back(v.defined() ? v.slot() : std::make_shared<GradSlot>());
    node.outputs.reserve(outs.size());
    for (const Variable& v : outs) node.outputs.push_back(v.slot());
    node.backward = std::move(backward);
    t_tape.push(std::move(node));
  }
  return outs;
}

Variable record1(const char* op, const std::vector<Variable>& inputs, Tensor output,
                 BackwardFn backward) {
  std::vector<Tensor> outs;
  outs.push_back(std::move(output));
  return record(op, inputs, std::move(outs), std::move(backward))[0];
}

void accumulate_grad(GradSlot& slot, const Tensor& g, bool may_take) {
  const std::string target = fmt::format("variable '{}' ({} {} on {})", slot.name, dtype_name(slot.dtype),
                                         slot.shape.str(), slot.device.str());
  ASN_CHECK_SHAPE(g.shape() == slot.shape, "gradient {} does not match {}", describe(g), target);
  ASN_CHECK_TYPE(g.dtype() == slot.dtype && g.device() == slot.device,
                 "gradient {} does not match {}", describe(g), target);
  if (!slot.grad.defined()) {
    slot.grad = may_take ? g : g.clone();
  } else {
    kernels::add_inplace(slot.grad, g);
  }
}

void Tape::run_backward() {
  NoGradGuard no_grad;  // backward functions compute plain tensors; never record
  while (!nodes_.empty()) {
    TapeNode node = std::move(nodes_.back());
    nodes_.pop_back();
    bool any = false;
    for (const auto& o : node.outputs) any = any || o->grad.defined();
    bool any_input = false;
    for (const auto& i : node.inputs) any_input = any_input || i->requires_grad;
    if (!any || !any_input) continue;

    std::vector<Tensor> grad_out;
    grad_out.reserve(node.outputs.size());
    for (const auto& o : node.outputs) {
      grad_out.push_back(o->grad.defined() ? o->grad : Tensor::zeros(o->shape, o->dtype, o->device));
    }
    std::vector<bool> needs;
    needs.reserve(node.inputs.size());
    for (const auto& i : node.inputs) needs.push_back(i->requires_grad);

    OpScope scope(node.op);
    std::vector<Tensor> grad_in = node.backward(grad_out, needs);
    ASN_CHECK(grad_in.size() == node.inputs.size(),
              "backward of {} returned {} gradients for {} inputs", node.op, grad_in.size(),
              node.inputs.size());
    // Outputs' gradients are spent: release them (they are never leaves).
    for (const auto& o : node.outputs) o->grad = Tensor();

    for (size_t i = 0; i < grad_in.size(); ++i) {
      if (!needs[i] || !grad_in[i].defined()) continue;
      // Adopt the tensor only if it is not one of the incoming gradients and no other input of this
      // node received the same storage (an add's two inputs both get grad_out).
      bool shared = false;
      for (const Tensor& go : grad_out) shared = shared || grad_in[i].shares_storage_with(go);
      for (size_t j = 0; j < i; ++j) shared = shared || grad_in[i].shares_storage_with(grad_in[j]);
      // The same Variable may appear twice as an input (x * x): accumulation handles it.
      accumulate_grad(*node.inputs[i], grad_in[i], !shared);
    }
  }
}

void backward(const Variable& root, const Tensor& seed) {
  ASN_CHECK(root.defined(), "backward() of an undefined Variable");
  ASN_CHECK(root.requires_grad(),
            "backward(): the root does not require a gradient (nothing it depends on is trainable, "
            "or it was computed under NoGradGuard)");
  Tensor s;
  if (seed.defined()) {
    ASN_CHECK_SHAPE(seed.shape() == root.shape(), "backward(): seed {} for root {}", describe(seed),
                    describe(root.value()));
    ASN_CHECK_TYPE(seed.dtype() == root.dtype() && seed.device() == root.device(),
                   "backward(): seed {} for root {} (dtype and device must match)", describe(seed),
                   describe(root.value()));
    s = seed;
  } else {
    s = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
  }
  Variable r = root;
  r.set_grad(s);
  t_tape.run_backward();
}

}  // namespace asn::ag
