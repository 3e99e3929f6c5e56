// conv3d: argument checks, device dispatch (CPU kernels, or cuDNN / cuBLASLt on CUDA) and the
// tape node (forward and backward side by side).
#include "autograd/functions/conv3d.h"

#include "autograd/checks.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"

namespace asn::ag {

namespace {
constexpr const char* kOp = "conv3d";
}

Variable conv3d(const Variable& x, const Variable& w, const kernels::Conv3dParams& p) {
  OpScope scope(kOp);
  ASN_CHECK_TYPE(x.defined() && w.defined(), "{}: input and kernel must be defined", kOp);
  const Tensor& xv = x.value();
  const Tensor& wv = w.value();
  check_floating(kOp, "input", xv);
  check_rank(kOp, "input", xv, 5, "(N, T, H, W, Cin)");
  check_rank(kOp, "kernel", wv, 5, "(Cout, kT, kH, kW, Cin)");
  check_same_type(kOp, "kernel", wv, "input", xv);
  ASN_CHECK_SHAPE(xv.dim(4) == wv.dim(4),
                  "{}: input {} and kernel {} disagree on input channels ({} vs {})", kOp,
                  describe(xv), describe(wv), xv.dim(4), wv.dim(4));
  const Shape y_shape = p.output_shape(xv.shape(), wv.shape());  // channels, params, window fit
#ifndef ASN_WITH_CUDA
  if (xv.device().is_cuda()) throw_no_cuda(kOp);
#endif

  Tensor y = Tensor::empty(y_shape, xv.dtype(), xv.device());
  kernels::dispatch_float(kOp, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::conv3d_forward_cuda<T>(xv.data<T>(), xv.shape(), wv.data<T>(), wv.shape(), p,
                                      y.data<T>(), xv.device().index);
      return;
    }
#endif
    kernels::conv3d_forward_cpu<T>(xv.data<T>(), xv.shape(), wv.data<T>(), wv.shape(), p,
                                   y.data<T>());
  });

  // Saved for backward: the kernel, and the input for the kernel's gradient; when the input can be
  // rebuilt (memory-saving mode, autograd/recompute.h) its Recomputable instead of the input.
  const std::shared_ptr<Recomputable> rc = x.recomputable();
  const Tensor x_saved = rc ? Tensor() : xv;
  const Shape x_shape = xv.shape();
  return record1(
      kOp, {x, w}, y,
      [x_saved, rc, x_shape, wv, p](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
        std::vector<Tensor> out(2);
        const Tensor& dy = g[0];
        const Tensor xv = needs[1] ? (rc ? rc->get() : x_saved) : Tensor();
        if (needs[0]) out[0] = Tensor::empty(x_shape, dy.dtype(), dy.device());
        if (needs[1]) out[1] = Tensor::empty(wv.shape(), wv.dtype(), wv.device());
        kernels::dispatch_float(kOp, dy.dtype(), [&](auto tag) {
          using T = decltype(tag);
#ifdef ASN_WITH_CUDA
          if (dy.device().is_cuda()) {
            const int dev = dy.device().index;
            if (needs[0]) {
              kernels::conv3d_backward_data_cuda<T>(dy.data<T>(), x_shape, wv.data<T>(),
                                                    wv.shape(), p, out[0].data<T>(), dev);
            }
            if (needs[1]) {
              kernels::conv3d_backward_weight_cuda<T>(xv.data<T>(), x_shape, dy.data<T>(),
                                                      wv.shape(), p, out[1].data<T>(), dev);
            }
            return;
          }
#endif
          if (needs[0]) {
            kernels::conv3d_backward_data_cpu<T>(dy.data<T>(), x_shape, wv.data<T>(), wv.shape(),
                                                 p, out[0].data<T>());
          }
          if (needs[1]) {
            kernels::conv3d_backward_weight_cpu<T>(xv.data<T>(), x_shape, dy.data<T>(),
                                                   wv.shape(), p, out[1].data<T>());
          }
        });
        return out;
      });
}

}  // namespace asn::ag
