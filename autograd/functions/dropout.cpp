// Differentiable dropout (autograd/functions/dropout.h).
#include "autograd/functions/dropout.h"

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/dropout/dropout.h"

namespace asn::ag {

Variable dropout(const Variable& x, double rate, Generator& gen, bool training) {
  OpScope scope("dropout");
  ASN_CHECK_TYPE(x.defined(), "dropout: x is an undefined Variable");
  const Tensor& xv = x.value();
  check_floating("dropout", "x", xv);
  ASN_CHECK(rate >= 0 && rate < 1,
            "dropout: rate (the fraction dropped) must be in [0, 1), got {} for x {}", rate,
            describe(xv));
  if (!training || rate == 0) return x;
  if (xv.device().is_cuda()) throw_no_cuda("dropout");

  kernels::DropoutParams p;
  p.seed = gen.seed();
  p.offset = gen.next_offset();
  p.rate = rate;
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("dropout", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::dropout_apply_cpu<T>(p, xv.data<T>(), y.data<T>(), xv.numel());
  });
  // Saved for backward: seed and offset only (the mask is recomputed).
  return record1("dropout", {x}, y, [p](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(g[0].shape(), g[0].dtype(), g[0].device());
    kernels::dispatch_float("dropout", g[0].dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::dropout_apply_cpu<T>(p, g[0].data<T>(), dx.data<T>(), dx.numel());
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace asn::ag
