// Differentiable activations (autograd/functions/activations.h): validate, run the CPU or CUDA
// kernel on the input's device (outputs are allocated there), record one tape node whose backward
// keeps only the output.
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
#ifndef ASN_WITH_CUDA
  if (x.device().is_cuda()) throw_no_cuda(op);
#endif
  return x.value();
}

// Device dispatch of the kernels; every tensor lives on x's (y's) device.
template <class T>
void relu_forward(const Tensor& x, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::relu_forward_cuda<T>(x.data<T>(), y.data<T>(), x.numel(), x.device().index);
    return;
  }
#endif
  kernels::relu_forward_cpu<T>(x.data<T>(), y.data<T>(), x.numel());
}

template <class T>
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
#ifdef ASN_WITH_CUDA
  if (y.device().is_cuda()) {
    kernels::relu_backward_cuda<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), y.numel(),
                                   y.device().index);
    return;
  }
#endif
  kernels::relu_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), y.numel());
}

template <class T>
void sigmoid_forward(const Tensor& x, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::sigmoid_forward_cuda<T>(x.data<T>(), y.data<T>(), x.numel(), x.device().index);
    return;
  }
#endif
  kernels::sigmoid_forward_cpu<T>(x.data<T>(), y.data<T>(), x.numel());
}

template <class T>
void sigmoid_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
#ifdef ASN_WITH_CUDA
  if (y.device().is_cuda()) {
    kernels::sigmoid_backward_cuda<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), y.numel(),
                                      y.device().index);
    return;
  }
#endif
  kernels::sigmoid_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), y.numel());
}

template <class T>
void softmax_forward(const Tensor& x, Tensor& y, int64_t rows, int64_t cols) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::softmax_forward_cuda<T>(x.data<T>(), y.data<T>(), rows, cols, x.device().index);
    return;
  }
#endif
  kernels::softmax_forward_cpu<T>(x.data<T>(), y.data<T>(), rows, cols);
}

template <class T>
void softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, int64_t rows, int64_t cols) {
#ifdef ASN_WITH_CUDA
  if (y.device().is_cuda()) {
    kernels::softmax_backward_cuda<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), rows, cols,
                                      y.device().index);
    return;
  }
#endif
  kernels::softmax_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), rows, cols);
}

}  // namespace

Variable relu(const Variable& x) {
  OpScope scope("relu");
  const Tensor& xv = checked_input("relu", x);
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("relu", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    relu_forward<T>(xv, y);
  });
  return record1("relu", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    kernels::dispatch_float("relu", y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      relu_backward<T>(g[0], y, dx);
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
    sigmoid_forward<T>(xv, y);
  });
  return record1("sigmoid", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    kernels::dispatch_float("sigmoid", y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      sigmoid_backward<T>(g[0], y, dx);
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
    softmax_forward<T>(xv, y, rows, cols);
  });
  return record1(
      "softmax", {x}, y, [y, rows, cols](const std::vector<Tensor>& g, const std::vector<bool>&) {
        Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
        kernels::dispatch_float("softmax", y.dtype(), [&](auto tag) {
          using T = decltype(tag);
          softmax_backward<T>(g[0], y, dx, rows, cols);
        });
        return std::vector<Tensor>{dx};
      });
}

}  // namespace asn::ag
