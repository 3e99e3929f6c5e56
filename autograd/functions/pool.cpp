// Autograd glue for max_pool3d and avg_pool3d (see pool.h).
#include "autograd/functions/pool.h"

#include <limits>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/pool/avg_pool3d.h"
#include "kernels/pool/max_pool3d.h"

namespace asn::ag {

using kernels::Pool3dGeometry;
using kernels::Pool3dParams;

namespace {

Pool3dGeometry checked_geometry(const char* op, const Variable& x, const Pool3dParams& params) {
  ASN_CHECK_TYPE(x.defined(), "{}: input is an undefined Variable", op);
  check_floating(op, "input", x.value());
  const Pool3dGeometry g = kernels::make_pool3d_geometry(op, x.value(), params);
#ifndef ASN_WITH_CUDA
  if (x.device().is_cuda()) throw_no_cuda(op);
#endif
  return g;
}

}  // namespace

Variable max_pool3d(const Variable& x, const Pool3dParams& params) {
  OpScope scope("max_pool3d");
  const Pool3dGeometry g = checked_geometry("max_pool3d", x, params);
  ASN_CHECK_SHAPE(g.T * g.H * g.W <= std::numeric_limits<int32_t>::max(),
                  "max_pool3d: input {} has more than 2^31 positions per sample (int32 argmax)",
                  describe(x.value()));
  const Tensor xv = x.value();
  Tensor y = Tensor::empty(kernels::pool3d_output_shape(g), xv.dtype(), xv.device());
  const bool need_argmax = grad_enabled() && x.requires_grad();
  Tensor argmax;
  if (need_argmax) argmax = Tensor::empty(y.shape(), DType::i32, xv.device());
  kernels::dispatch_float("max_pool3d", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    int32_t* am = need_argmax ? argmax.data<int32_t>() : nullptr;
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::max_pool3d_forward_cuda<T>(xv.data<T>(), g, y.data<T>(), am, xv.device().index);
      return;
    }
#endif
    kernels::max_pool3d_forward_cpu<T>(xv.data<T>(), g, y.data<T>(), am);
  });
  return record1("max_pool3d", {x}, y,
                 [g, argmax, in_shape = xv.shape()](const std::vector<Tensor>& grads,
                                                    const std::vector<bool>&) {
                   const Tensor& gy = grads[0];
                   Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
                   kernels::dispatch_float("max_pool3d", gy.dtype(), [&](auto tag) {
                     using T = decltype(tag);
#ifdef ASN_WITH_CUDA
                     if (gy.device().is_cuda()) {
                       kernels::max_pool3d_backward_cuda<T>(gy.data<T>(), argmax.data<int32_t>(), g,
                                                            gx.data<T>(), gy.device().index);
                       return;
                     }
#endif
                     kernels::max_pool3d_backward_cpu<T>(gy.data<T>(), argmax.data<int32_t>(), g,
                                                         gx.data<T>());
                   });
                   return std::vector<Tensor>{gx};
                 });
}

Variable avg_pool3d(const Variable& x, const Pool3dParams& params) {
  OpScope scope("avg_pool3d");
  const Pool3dGeometry g = checked_geometry("avg_pool3d", x, params);
  const Tensor xv = x.value();
  Tensor y = Tensor::empty(kernels::pool3d_output_shape(g), xv.dtype(), xv.device());
  kernels::dispatch_float("avg_pool3d", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::avg_pool3d_forward_cuda<T>(xv.data<T>(), g, y.data<T>(), xv.device().index);
      return;
    }
#endif
    kernels::avg_pool3d_forward_cpu<T>(xv.data<T>(), g, y.data<T>());
  });
  return record1(
      "avg_pool3d", {x}, y,
      [g, in_shape = xv.shape()](const std::vector<Tensor>& grads, const std::vector<bool>&) {
        const Tensor& gy = grads[0];
        Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
        kernels::dispatch_float("avg_pool3d", gy.dtype(), [&](auto tag) {
          using T = decltype(tag);
#ifdef ASN_WITH_CUDA
          if (gy.device().is_cuda()) {
            kernels::avg_pool3d_backward_cuda<T>(gy.data<T>(), g, gx.data<T>(), gy.device().index);
            return;
          }
#endif
          kernels::avg_pool3d_backward_cpu<T>(gy.data<T>(), g, gx.data<T>());
        });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace asn::ag
