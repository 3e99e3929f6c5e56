// Differentiable activations (autograd/functions/activations.h): validate, run the CPU kernel,
// record one tape node whose backward keeps only the output.
#include "autograd/functions/activations.h"

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise/activations.h"

namespace asn::ag {

namespace {

const Tensor& checked_input(const char* op, const Variable& x) {
  ASN_CHECK_TYPE(x.defined(), "{}: x is an undefined Variable", op);
  check_floating(op, "x", x.value());
  if (x.device().is_cuda()) throw_no_cuda(op);
  return x.value();
}

}  // namespace

Variable relu(const Variable& x) {
  OpScope scope("relu");
  const Tensor& xv = checked_input("relu", x);
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("relu", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::relu_forward_cpu<T>(xv.data<T>(), y.data<T>(), xv.numel());
  });
  return record1("relu", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    kernels::dispatch_float("relu", y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::relu_backward_cpu<T>(g[0].data<T>(), y.data<T>(), dx.data<T>(), y.numel());
    });
    return std::vector<Tensor>{dx};
  });
}

Variable sigmoid(const Variable& x) {
  OpScope scope("sigmoid");
  const Tensor& xv = checked_input("sigmoid", x);
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("sigmoid", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::sigmoid_forward_cpu<T>(xv.data<T>(), y.data<T>(), xv.numel());
  });
  return record1("sigmoid", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    kernels::dispatch_float("sigmoid", y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::sigmoid_backward_cpu<T>(g[0].data<T>(), y.data<T>(), dx.data<T>(), y.numel());
    });
    return std::vector<Tensor>{dx};
  });
}

Variable softmax(const Variable& x) {
  OpScope scope("softmax");
  const Tensor& xv = checked_input("softmax", x);
  ASN_CHECK_SHAPE(xv.rank() >= 1 && xv.dim(-1) >= 1,
                  "softmax: x must have rank >= 1 and a non-empty last axis, got {}", describe(xv));
  const int64_t cols = xv.dim(-1);
  const int64_t rows = xv.numel() / cols;
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("softmax", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::softmax_forward_cpu<T>(xv.data<T>(), y.data<T>(), rows, cols);
  });
  return record1(
      "softmax", {x}, y, [y, rows, cols](const std::vector<Tensor>& g, const std::vector<bool>&) {
        Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
        kernels::dispatch_float("softmax", y.dtype(), [&](auto tag) {
          using T = decltype(tag);
          kernels::softmax_backward_cpu<T>(g[0].data<T>(), y.data<T>(), dx.data<T>(), rows, cols);
        });
        return std::vector<Tensor>{dx};
      });
}

}  // namespace asn::ag
