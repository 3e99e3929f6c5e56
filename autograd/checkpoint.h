// Gradient checkpointing: keep a segment's inputs, not its activations, and recompute the segment
// in backward (torch.utils.checkpoint, in the tape's terms).
//
// checkpoint(fn, inputs) runs fn without recording and records one tape node for the whole
// segment; it saves only `inputs`. When the backward pass reaches that node, it re-runs fn with
// recording on an empty tape (the outer tape's nodes are set aside), seeds the recomputed outputs
// with the incoming gradients and runs that tape: parameters used inside fn receive their
// gradients directly, the inputs' gradients are returned to the outer tape. The recomputation
// does the same arithmetic as the first run, so gradients are bitwise those without checkpointing.
//
// Batch norm inside fn updates its running statistics once, in the first run: while a
// checkpoint recomputes (recomputing_forward()), batch_norm leaves them alone. fn must not draw
// random numbers (dropout): the recomputation would draw different ones.
//
// Memory: between forward and backward only the inputs and outputs of each segment; during the
// backward of a segment, that segment's activations. Cost: one more forward of the segment.
#pragma once

#include <functional>
#include <vector>

#include "autograd/scoped_flag.h"
#include "autograd/variable.h"

namespace asn::ag {

using SegmentFn = std::function<std::vector<Variable>(const std::vector<Variable>& inputs)>;

// Runs fn(inputs) and returns its outputs; with recording on, as one checkpointed tape node named
// `op`. Without recording (NoGradGuard) it is just fn(inputs).
std::vector<Variable> checkpoint(const char* op, const SegmentFn& fn, const std::vector<Variable>& inputs);

// True while a checkpoint re-runs its segment in backward (on this thread).
bool recomputing_forward();

// Checkpoints every block group of a network's forward pass for its lifetime (graph::Network asks).
class CheckpointGuard {
 public:
  explicit CheckpointGuard(bool enabled);

 private:
  ScopedFlag scope_;
};
bool checkpoint_enabled();

}  // namespace asn::ag
