// Differentiable dropout (autograd/functions/dropout.h): the CPU or CUDA kernel on x's device;
// both draw the same mask from (seed, offset).
#include "autograd/functions/dropout.h"

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/dropout/dropout.h"

namespace asn::ag {

namespace {

// y = x * mask * scale on x's device (y allocated there); also the backward (dy in, dx out).
template <class T>
void dropout_kernel(const kernels::DropoutParams& p, const Tensor& x, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::dropout_apply_cuda<T>(p, x.data<T>(), y.data<T>(), x.numel(), x.device().index);
    return;
  }
#endif
  kernels::dropout_apply_cpu<T>(p, x.data<T>(), y.data<T>(), x.numel());
}

}  // namespace

Variable dropout(const Variable& x, double rate, Generator& gen, bool training) {
  OpScope scope("dropout");
  ASN_CHECK_TYPE(x.defined(), "dropout: x is an undefined Variable");
  const Tensor& xv = x.value();
  check_floating("dropout", "x", xv);
  ASN_CHECK(rate >= 0 && rate < 1,
            "dropout: rate (the fraction dropped) must be in [0, 1), got {} for x {}", rate,
            describe(xv));
  if (!training || rate == 0) return x;
#ifndef ASN_WITH_CUDA
  if (xv.device().is_cuda()) throw_no_cuda("dropout");
#endif

  kernels::DropoutParams p;
  p.seed = gen.seed();
  p.offset = gen.next_offset();
  p.rate = rate;
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("dropout", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T>(p, xv, y);
  });
  // Saved for backward: seed and offset only (the mask is recomputed).
  return record1("dropout", {x}, y, [p](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(g[0].shape(), g[0].dtype(), g[0].device());
    kernels::dispatch_float("dropout", g[0].dtype(), [&](auto tag) {
      using T = decltype(tag);
      dropout_kernel<T>(p, g[0], dx);
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace asn::ag
