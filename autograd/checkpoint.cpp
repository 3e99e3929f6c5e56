// Gradient checkpointing (see checkpoint.h).
#include "autograd/checkpoint.h"

#include "autograd/tape.h"
#include "engine/allocator.h"
#include "engine/error.h"

namespace asn::ag {

namespace {
thread_local bool t_recomputing = false;
thread_local bool t_checkpoint = false;

// Sets the outer tape's nodes aside for a scope (the recomputation records on an empty tape) and
// puts them back, also when the recomputation throws.
struct OuterTapeScope {
  std::vector<TapeNode> outer;
  OuterTapeScope() { tape().swap_nodes(outer); }
  ~OuterTapeScope() {
    tape().clear();
    tape().swap_nodes(outer);
  }
};
}  // namespace

bool recomputing_forward() { return t_recomputing; }
bool checkpoint_enabled() { return t_checkpoint; }
CheckpointGuard::CheckpointGuard(bool enabled) : scope_(t_checkpoint, enabled) {}

std::vector<Variable> checkpoint(const char* op, const SegmentFn& fn, const std::vector<Variable>& inputs) {
  if (!grad_enabled()) return fn(inputs);
  std::vector<Variable> first;
  {
    NoGradGuard no_grad;
    first = fn(inputs);
  }
  // The outputs require a gradient even when no input does: parameters inside fn need theirs.
  std::vector<Variable> outs;
  TapeNode node;
  node.op = op;
  for (const Variable& v : first) {
    Variable o(v.value(), /*requires_grad=*/true);
    o.mark_non_leaf();
    node.outputs.push_back(o.slot());
    outs.push_back(o);
  }
  std::vector<Tensor> saved;
  for (const Variable& v : inputs) {
    node.inputs.push_back(v.defined() ? v.slot() : std::make_shared<GradSlot>());
    saved.push_back(v.defined() ? v.value() : Tensor());
  }
  // The tape skips a node none of whose inputs needs a gradient; the parameters inside fn are not
  // among the inputs, so a placeholder input that always asks for one keeps the node running. It
  // never receives anything.
  auto placeholder = std::make_shared<GradSlot>();
  placeholder->requires_grad = true;
  node.inputs.push_back(placeholder);
  node.backward = [op, fn, saved](const std::vector<Tensor>& grad_out, const std::vector<bool>& needs) {
    OpScope scope(op);
    OuterTapeScope outer;
    ScopedFlag recomputing(t_recomputing, true);
    EnableGradGuard grad_on;
    std::vector<Variable> ins;
    for (size_t i = 0; i < saved.size(); ++i)
      ins.push_back(saved[i].defined() ? Variable(saved[i], needs[i]) : Variable());
    std::vector<Variable> again = fn(ins);
    ASN_CHECK(again.size() == grad_out.size(), "{}: the recomputation returned {} outputs, the first run {}", op,
              again.size(), grad_out.size());
    bool any = false;
    for (size_t k = 0; k < again.size(); ++k) {
      if (!again[k].requires_grad()) continue;
      again[k].set_grad(grad_out[k].clone());  // the outer tape still owns grad_out
      any = true;
    }
    if (any) tape().run_backward();
    std::vector<Tensor> grads(saved.size() + 1);  // the placeholder's stays undefined
    for (size_t i = 0; i < saved.size(); ++i)
      if (needs[i] && ins[i].defined() && ins[i].has_grad()) grads[i] = ins[i].grad();
    return grads;
  };
  tape().push(std::move(node));
  return outs;
}

}  // namespace asn::ag
