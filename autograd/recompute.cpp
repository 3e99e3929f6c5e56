// Recomputable values and the per-thread memory-saving switch (autograd/recompute.h).
#include "autograd/recompute.h"

#include <utility>

namespace asn::ag {

namespace {
thread_local bool t_recompute = false;
}  // namespace

Recomputable::Recomputable(const Tensor& value, std::function<Tensor()> compute)
    : compute_(std::move(compute)),
      original_(value.storage()),
      offset_(value.offset()),
      shape_(value.shape()),
      dtype_(value.dtype()) {}

const Tensor& Recomputable::get() {
  if (cached_.defined()) return cached_;
  if (std::shared_ptr<Storage> alive = original_.lock()) {
    cached_ = Tensor::view_of(std::move(alive), offset_, shape_, dtype_);
    return cached_;
  }
  cached_ = compute_();
  ++recomputations_;
  return cached_;
}

void Recomputable::release() { cached_ = Tensor(); }

bool recompute_enabled() { return t_recompute; }
RecomputeGuard::RecomputeGuard(bool enabled) : scope_(t_recompute, enabled) {}

}  // namespace asn::ag
