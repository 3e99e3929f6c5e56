// Autograd glue of temporal soft-max pooling: checks, device dispatch (CPU or CUDA kernels of
// kernels/head/temporal_softmax_pool.h) and the tape node.
#include "autograd/functions/temporal_softmax_pool.h"

#include <cmath>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/head/temporal_softmax_pool.h"

namespace asn::ag {

Variable temporal_softmax_pool(const Variable& z) {
  OpScope scope("temporal_softmax_pool");
  const char* op = "temporal_softmax_pool";
  check_floating(op, "logits", z.value());
  check_rank(op, "logits", z.value(), 3, "(N, T, K)");
#ifndef ASN_WITH_CUDA
  if (z.device().is_cuda()) throw_no_cuda(op);
#endif
  const Tensor zv = z.value();
  const int64_t N = zv.dim(0), Tn = zv.dim(1), K = zv.dim(2);
  ASN_CHECK_SHAPE(Tn >= 1, "{}: logits {} have no frames", op, describe(zv));
  const double tau = std::sqrt(static_cast<double>(Tn));
  Tensor y = Tensor::empty(Shape{N, K}, zv.dtype(), zv.device());
  kernels::dispatch_float(op, zv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (zv.device().is_cuda()) {
      kernels::temporal_softmax_pool_forward_cuda<T>(zv.data<T>(), N, Tn, K, tau, y.data<T>(),
                                                     zv.device().index);
      return;
    }
#endif
    kernels::temporal_softmax_pool_forward_cpu<T>(zv.data<T>(), N, Tn, K, tau, y.data<T>());
  });
  return record1(
      op, {z}, y, [zv, y, N, Tn, K, tau](const std::vector<Tensor>& g, const std::vector<bool>&) {
        Tensor dz = Tensor::empty(zv.shape(), zv.dtype(), zv.device());
        kernels::dispatch_float("temporal_softmax_pool backward", zv.dtype(), [&](auto tag) {
          using T = decltype(tag);
#ifdef ASN_WITH_CUDA
          if (zv.device().is_cuda()) {
            kernels::temporal_softmax_pool_backward_cuda<T>(zv.data<T>(), y.data<T>(),
                                                            g[0].data<T>(), N, Tn, K, tau,
                                                            dz.data<T>(), zv.device().index);
            return;
          }
#endif
          kernels::temporal_softmax_pool_backward_cpu<T>(zv.data<T>(), y.data<T>(), g[0].data<T>(),
                                                         N, Tn, K, tau, dz.data<T>());
        });
        return std::vector<Tensor>{dz};
      });
}

}  // namespace asn::ag
