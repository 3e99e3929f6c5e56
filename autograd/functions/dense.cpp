// Autograd glue for the dense layer (see dense.h).
#include "autograd/functions/dense.h"

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dense/dense.h"
#include "kernels/dispatch.h"

namespace asn::ag {

Variable dense(const Variable& x, const Variable& w, const Variable& b) {
  OpScope scope("dense");
  ASN_CHECK_TYPE(x.defined(), "dense: input is an undefined Variable");
  ASN_CHECK_TYPE(w.defined(), "dense: weight is an undefined Variable");
  const Tensor xv = x.value();
  const Tensor wv = w.value();
  const bool has_bias = b.defined();
  check_floating("dense", "input", xv);
  check_same_type("dense", "weight", wv, "input", xv);
  if (has_bias) check_same_type("dense", "bias", b.value(), "input", xv);
  ASN_CHECK_SHAPE(xv.rank() >= 1, "dense: input must have rank >= 1 (..., Cin), got {}",
                  describe(xv));
  ASN_CHECK_SHAPE(wv.rank() == 2, "dense: weight must have rank 2 (Cout, Cin), got {} (input {})",
                  describe(wv), describe(xv));
  const int64_t Cin = xv.dim(-1);
  const int64_t Cout = wv.dim(0);
  ASN_CHECK_SHAPE(wv.dim(1) == Cin,
                  "dense: input {} and weight {} disagree on input channels ({} vs {})",
                  describe(xv), describe(wv), Cin, wv.dim(1));
  if (has_bias) {
    ASN_CHECK_SHAPE(b.value().rank() == 1 && b.value().dim(0) == Cout,
                    "dense: bias must have shape ({},) to match weight {}, got {}", Cout,
                    describe(wv), describe(b.value()));
  }
#ifndef ASN_WITH_CUDA
  if (xv.device().is_cuda()) throw_no_cuda("dense");
#endif

  const int64_t rows = xv.shape().prod(0, xv.rank() - 1);  // M: every leading axis flattened
  const Tensor bv = has_bias ? b.value() : Tensor();
  Tensor y = Tensor::empty(xv.shape().with(-1, Cout), xv.dtype(), xv.device());
  kernels::dispatch_float("dense", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* bp = has_bias ? bv.data<T>() : nullptr;
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::dense_forward_cuda<T>(xv.data<T>(), wv.data<T>(), bp, rows, Cin, Cout, y.data<T>(),
                                     xv.device().index);
      return;
    }
#endif
    kernels::dense_forward_cpu<T>(xv.data<T>(), wv.data<T>(), bp, rows, Cin, Cout, y.data<T>());
  });
  std::vector<Variable> inputs{x, w};
  if (has_bias) inputs.push_back(b);
  return record1("dense", inputs, y,
                 [xv, wv, rows, Cin, Cout, has_bias](const std::vector<Tensor>& grads,
                                                     const std::vector<bool>& needs) {
                   const Tensor& gy = grads[0];
                   std::vector<Tensor> out(has_bias ? 3 : 2);
                   if (needs[0]) out[0] = Tensor::empty(xv.shape(), gy.dtype(), gy.device());
                   if (needs[1]) out[1] = Tensor::empty(wv.shape(), gy.dtype(), gy.device());
                   if (has_bias && needs[2])
                     out[2] = Tensor::empty(Shape{Cout}, gy.dtype(), gy.device());
                   kernels::dispatch_float("dense", gy.dtype(), [&](auto tag) {
                     using T = decltype(tag);
                     auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
                     T* gb = has_bias ? ptr(out[2]) : nullptr;
#ifdef ASN_WITH_CUDA
                     if (gy.device().is_cuda()) {
                       kernels::dense_backward_cuda<T>(gy.data<T>(), xv.data<T>(), wv.data<T>(),
                                                       rows, Cin, Cout, ptr(out[0]), ptr(out[1]),
                                                       gb, gy.device().index);
                       return;
                     }
#endif
                     kernels::dense_backward_cpu<T>(gy.data<T>(), xv.data<T>(), wv.data<T>(), rows,
                                                    Cin, Cout, ptr(out[0]), ptr(out[1]), gb);
                   });
                   return out;
                 });
}

}  // namespace asn::ag
