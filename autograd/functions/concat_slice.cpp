// Autograd glue for concat, slice and reshape (see concat_slice.h).
#include "autograd/functions/concat_slice.h"

#include <string>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/shape/concat.h"
#include "kernels/shape/slice.h"

namespace asn::ag {

namespace {

// "input 0 f32 (2, 3) on cpu, input 1 f32 (2, 4) on cpu".
std::string describe_all(const std::vector<Variable>& xs) {
  std::string s;
  for (size_t k = 0; k < xs.size(); ++k) {
    if (k) s += ", ";
    s += "input " + std::to_string(k) + " " +
         (xs[k].defined() ? describe(xs[k].value()) : std::string("undefined"));
  }
  return s;
}

Tensor slice_tensor(const char* op, const Tensor& x, int64_t outer, int64_t len, int64_t inner,
                    int64_t start, int64_t count, const Shape& out_shape) {
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  kernels::dispatch_float(op, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (x.device().is_cuda()) {
      kernels::slice_forward_cuda<T>(x.data<T>(), outer, len, inner, start, count, y.data<T>(),
                                     x.device().index);
      return;
    }
#endif
    kernels::slice_forward_cpu<T>(x.data<T>(), outer, len, inner, start, count, y.data<T>());
  });
  return y;
}

}  // namespace

Variable concat(const std::vector<Variable>& xs, int axis) {
  OpScope scope("concat");
  ASN_CHECK_SHAPE(!xs.empty(), "concat: no inputs given");
  for (size_t k = 0; k < xs.size(); ++k) {
    ASN_CHECK_TYPE(xs[k].defined(), "concat: input {} is an undefined Variable ({})", k,
                   describe_all(xs));
  }
  const Tensor& x0 = xs[0].value();
  check_floating("concat", "input 0", x0);
  for (size_t k = 1; k < xs.size(); ++k) {
    const std::string what = "input " + std::to_string(k);
    check_same_type("concat", what.c_str(), xs[k].value(), "input 0", x0);
  }
  const int rank = x0.rank();
  ASN_CHECK_SHAPE(axis >= -rank && axis < rank, "concat: axis {} is out of range for rank {} ({})",
                  axis, rank, describe_all(xs));
  const int a = axis < 0 ? axis + rank : axis;
  bool agree = true;
  for (const Variable& x : xs) {
    agree = agree && x.value().rank() == rank;
    for (int d = 0; agree && d < rank; ++d) agree = d == a || x.shape()[d] == x0.dim(d);
  }
  ASN_CHECK_SHAPE(agree, "concat: inputs must agree on every axis except {} (rank {}): {}", axis,
                  rank, describe_all(xs));
#ifndef ASN_WITH_CUDA
  if (x0.device().is_cuda()) throw_no_cuda("concat");
#endif

  const int64_t outer = x0.shape().prod(0, a);
  const int64_t inner = x0.shape().prod(a + 1, rank);
  std::vector<int64_t> lens;
  int64_t total = 0;
  for (const Variable& x : xs) {
    lens.push_back(x.shape()[a]);
    total += lens.back();
  }
  Tensor y = Tensor::empty(x0.shape().with(a, total), x0.dtype(), x0.device());
  kernels::dispatch_float("concat", x0.dtype(), [&](auto tag) {
    using T = decltype(tag);
    std::vector<const T*> ptrs;
    for (const Variable& x : xs) ptrs.push_back(x.value().data<T>());
#ifdef ASN_WITH_CUDA
    if (x0.device().is_cuda()) {
      kernels::concat_forward_cuda<T>(ptrs, lens, outer, inner, y.data<T>(), x0.device().index);
      return;
    }
#endif
    kernels::concat_forward_cpu<T>(ptrs, lens, outer, inner, y.data<T>());
  });
  std::vector<Shape> shapes;
  for (const Variable& x : xs) shapes.push_back(x.shape());
  return record1("concat", xs, y,
                 [lens, shapes, outer, inner, total](const std::vector<Tensor>& grads,
                                                     const std::vector<bool>& needs) {
                   std::vector<Tensor> gx(lens.size());
                   int64_t off = 0;
                   for (size_t k = 0; k < lens.size(); ++k) {
                     if (needs[k]) {
                       gx[k] = slice_tensor("concat", grads[0], outer, total, inner, off, lens[k],
                                            shapes[k]);
                     }
                     off += lens[k];
                   }
                   return gx;
                 });
}

Variable slice(const Variable& x, int axis, int64_t start, int64_t length) {
  OpScope scope("slice");
  ASN_CHECK_TYPE(x.defined(), "slice: input is an undefined Variable");
  const Tensor xv = x.value();
  check_floating("slice", "input", xv);
  const int rank = xv.rank();
  ASN_CHECK_SHAPE(axis >= -rank && axis < rank, "slice: axis {} is out of range for input {}", axis,
                  describe(xv));
  const int a = axis < 0 ? axis + rank : axis;
  const int64_t len = xv.dim(a);
  ASN_CHECK_SHAPE(start >= 0 && length >= 0 && start + length <= len,
                  "slice: range [{}, {}) is out of bounds for axis {} (size {}) of input {}", start,
                  start + length, axis, len, describe(xv));
#ifndef ASN_WITH_CUDA
  if (xv.device().is_cuda()) throw_no_cuda("slice");
#endif
  const int64_t outer = xv.shape().prod(0, a);
  const int64_t inner = xv.shape().prod(a + 1, rank);
  Tensor y =
      slice_tensor("slice", xv, outer, len, inner, start, length, xv.shape().with(a, length));
  return record1("slice", {x}, y,
                 [outer, len, inner, start, length, in_shape = xv.shape()](
                     const std::vector<Tensor>& grads, const std::vector<bool>&) {
                   const Tensor& gy = grads[0];
                   Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
                   kernels::dispatch_float("slice", gy.dtype(), [&](auto tag) {
                     using T = decltype(tag);
#ifdef ASN_WITH_CUDA
                     if (gy.device().is_cuda()) {
                       kernels::slice_backward_cuda<T>(gy.data<T>(), outer, len, inner, start,
                                                       length, gx.data<T>(), gy.device().index);
                       return;
                     }
#endif
                     kernels::slice_backward_cpu<T>(gy.data<T>(), outer, len, inner, start, length,
                                                    gx.data<T>());
                   });
                   return std::vector<Tensor>{gx};
                 });
}

Variable reshape(const Variable& x, const Shape& shape) {
  OpScope scope("reshape");
  ASN_CHECK_TYPE(x.defined(), "reshape: input is an undefined Variable");
  const Tensor xv = x.value();
  ASN_CHECK_SHAPE(shape.numel() == xv.numel(),
                  "reshape: cannot view input {} ({} elements) as {} ({} elements)", describe(xv),
                  xv.numel(), shape.str(), shape.numel());
  return record1(
      "reshape", {x}, xv.reshape(shape),
      [in_shape = xv.shape()](const std::vector<Tensor>& grads, const std::vector<bool>&) {
        return std::vector<Tensor>{grads[0].reshape(in_shape)};
      });
}

Variable reshape_infer(const Variable& x, const std::vector<int64_t>& dims) {
  ASN_CHECK_TYPE(x.defined(), "reshape: input is an undefined Variable");
  const Tensor xv = x.value();
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    ASN_CHECK_SHAPE(dims[i] >= -1, "reshape: size {} at position {} is invalid for input {}",
                    dims[i], i, describe(xv));
    if (dims[i] == -1) {
      ASN_CHECK_SHAPE(infer < 0, "reshape: more than one -1 among the new sizes for input {}",
                      describe(xv));
      infer = static_cast<int>(i);
    } else {
      known *= dims[i];
    }
  }
  std::vector<int64_t> d = dims;
  if (infer >= 0) {
    ASN_CHECK_SHAPE(known > 0 && xv.numel() % known == 0,
                    "reshape: input {} ({} elements) cannot be split into parts of {} elements",
                    describe(xv), xv.numel(), known);
    d[static_cast<size_t>(infer)] = xv.numel() / known;
  }
  return reshape(x, Shape(d));
}

}  // namespace asn::ag
