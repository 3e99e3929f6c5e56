// The tape: autograd by recording.
//
// Every differentiable op, as it runs, appends one node: its name, input and output Variables, and
// a backward function that closes over whatever the op saved. backward() walks the nodes in reverse
// (the recording order is a topological order), hands each node the gradients of its outputs, and
// accumulates what it returns into its inputs' gradients. Nodes are dropped as they are used, so
// activations are freed during the backward pass.
//
// A node holds its inputs' and outputs' gradient slots (autograd/variable.h), not their values:
// what a backward needs it saves itself (in its closure), and nothing else is kept alive by the
// tape. For a residual add followed by a ReLU, say, the add's inputs and output are freed right
// after the forward pass; only the ReLU's output, which its backward reads, stays.
//
// Recording happens only when gradients are enabled (see NoGradGuard) and some input requires a
// gradient. There is one tape per thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/scoped_flag.h"
#include "autograd/variable.h"

namespace asn::ag {

// Receives the gradient of each output (zeros where an output got none) and whether each input
// needs a gradient; returns one tensor per input (undefined where not needed). Returned tensors may
// alias the incoming gradients: the tape copies when it must.
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs,
                                                     const std::vector<bool>& needs_input_grad)>;

struct TapeNode {
  const char* op = "";
  std::vector<std::shared_ptr<GradSlot>> inputs;
  std::vector<std::shared_ptr<GradSlot>> outputs;
  BackwardFn backward;
};

class Tape {
 public:
  void push(TapeNode node) { nodes_.push_back(std::move(node)); }
  // Runs all nodes in reverse and empties the tape.
  void run_backward();
  void clear() { nodes_.clear(); }
  size_t size() const { return nodes_.size(); }
  const std::vector<TapeNode>& nodes() const { return nodes_; }
  // Exchanges the recorded nodes with `other` (a checkpoint's backward records and runs its
  // recomputation on an empty tape, then puts the outer nodes back: autograd/checkpoint.h).
  void swap_nodes(std::vector<TapeNode>& other) { nodes_.swap(other); }

 private:
  std::vector<TapeNode> nodes_;
};

// This thread's tape.
Tape& tape();

bool grad_enabled();
// Disables recording for its lifetime (evaluation, optimizer steps, finite differences).
class NoGradGuard {
 public:
  NoGradGuard();

 private:
  ScopedFlag scope_;
};

// Enables recording for its lifetime (a checkpoint recomputing its forward inside a backward pass,
// which itself runs without recording).
class EnableGradGuard {
 public:
  EnableGradGuard();

 private:
  ScopedFlag scope_;
};

// Wraps op results as Variables and, when any input requires a gradient and recording is on,
// records the node. The outputs then require gradients too.
std::vector<Variable> record(const char* op, const std::vector<Variable>& inputs,
                             std::vector<Tensor> outputs, BackwardFn backward);
Variable record1(const char* op, const std::vector<Variable>& inputs, Tensor output,
                 BackwardFn backward);

// Seeds d(root)/d(root) (ones, or `seed` of root's shape) and runs this thread's tape backward.
// Leaves keep their accumulated gradients; the tape is empty afterwards.
void backward(const Variable& root, const Tensor& seed = Tensor());

// Adds g into the slot's gradient (allocating it on first use). `may_take` lets the tape adopt g
// as the gradient without a copy when nothing else refers to it.
void accumulate_grad(GradSlot& slot, const Tensor& g, bool may_take);

}  // namespace asn::ag
