// Activation recomputation: the memory-saving mode of training.
//
// Between the forward and the backward pass an activation stays allocated only while some op's
// backward has saved it (the tape itself keeps no values: autograd/tape.h). The largest such
// tensors are batch norm outputs that feed a convolution: conv3d saves its input for the weight
// gradient (and a fused BN-ReLU needs its output for the ReLU mask). Yet such an output is a cheap
// elementwise function of tensors the batch norm's backward keeps anyway (its input x and the
// per-channel statistics).
//
// With recomputation on (RecomputeGuard), batch_norm / batch_norm_relu attach a Recomputable to
// their output instead of saving it, and conv3d saves that Recomputable instead of its input. The
// output is then freed as soon as the forward pass has used it, and the backward rebuilds it once:
// the first backward that needs it (the convolution's) computes it, the batch norm's backward,
// always the last user, takes the cached value and releases it. If the value is still alive when
// it is needed (another op saved it, e.g. a max pool), it is reused and nothing is recomputed.
//
// Cost: at most one elementwise pass per batch norm and step. Gradients are bit for bit those of
// the normal mode: the rebuild runs the forward's own arithmetic (kernels/norm/batch_norm.h,
// batch_norm_apply_*).
#pragma once

#include <functional>
#include <memory>

#include "autograd/scoped_flag.h"
#include "engine/tensor.h"

namespace asn::ag {

class Recomputable {
 public:
  // `value` is the tensor as the forward computed it (watched, not kept); `compute` rebuilds it.
  Recomputable(const Tensor& value, std::function<Tensor()> compute);

  // The value: the cached one, else the original if something else still holds it, else rebuilt
  // (and cached until release()).
  const Tensor& get();
  // Drops the cached value; the last user calls it.
  void release();
  // How many times the value was rebuilt (tests and diagnostics).
  int recomputations() const { return recomputations_; }

 private:
  std::function<Tensor()> compute_;
  std::weak_ptr<Storage> original_;
  int64_t offset_ = 0;
  Shape shape_;
  DType dtype_;
  Tensor cached_;
  int recomputations_ = 0;
};

// Whether ops on this thread should attach Recomputables to their outputs (off by default).
bool recompute_enabled();

// Turns recomputation on or off for its lifetime (on this thread), restoring the previous state.
class RecomputeGuard {
 public:
  explicit RecomputeGuard(bool enabled);

 private:
  ScopedFlag scope_;
};

}  // namespace asn::ag
