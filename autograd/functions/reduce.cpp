// Autograd glue for sum / mean / min / max reductions (see reduce.h).
#include "autograd/functions/reduce.h"

#include <fmt/format.h>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/reduce/extreme.h"
#include "kernels/reduce/reduce_plan.h"
#include "kernels/reduce/sum.h"

namespace asn::ag {

using kernels::Extreme;

namespace {

void check_input(const char* op, const Variable& x) {
  ASN_CHECK_TYPE(x.defined(), "{}: input is an undefined Variable", op);
  check_floating(op, "input", x.value());
#ifndef ASN_WITH_CUDA
  if (x.device().is_cuda()) throw_no_cuda(op);
#endif
}

int checked_axis(const char* op, const Tensor& x, int axis) {
  ASN_CHECK_SHAPE(axis >= -x.rank() && axis < x.rank(),
                  "{}: axis {} is out of range for input {} (rank {})", op, axis, describe(x),
                  x.rank());
  return axis < 0 ? axis + x.rank() : axis;
}

// Flags of the reduced axes, checking range and duplicates.
std::vector<bool> reduced_flags(const char* op, const Tensor& x, const std::vector<int>& axes) {
  ASN_CHECK_SHAPE(!axes.empty(), "{}: no axes given for input {} (list every axis to reduce all)",
                  op, describe(x));
  std::vector<bool> flags(static_cast<size_t>(x.rank()), false);
  for (int a : axes) {
    const int n = checked_axis(op, x, a);
    ASN_CHECK_SHAPE(!flags[static_cast<size_t>(n)],
                    "{}: axis {} is given twice in ({}) for input {}", op, a, fmt::join(axes, ", "),
                    describe(x));
    flags[static_cast<size_t>(n)] = true;
  }
  return flags;
}

// The result shape: reduced axes dropped (or kept as 1); (1,) when nothing is left.
Shape reduced_shape(const Shape& in, const std::vector<bool>& flags, bool keepdims) {
  std::vector<int64_t> dims;
  for (int a = 0; a < in.rank(); ++a) {
    if (!flags[static_cast<size_t>(a)]) {
      dims.push_back(in[a]);
    } else if (keepdims) {
      dims.push_back(1);
    }
  }
  if (dims.empty()) dims.push_back(1);
  return Shape(dims);
}

Variable sum_or_mean(const char* op, const Variable& x, const std::vector<int>& axes, bool keepdims,
                     bool is_mean) {
  OpScope scope(op);
  check_input(op, x);
  const Tensor xv = x.value();
  const std::vector<bool> flags = reduced_flags(op, xv, axes);
  const kernels::ReducePlan plan = kernels::make_reduce_plan(xv.shape(), flags);
  ASN_CHECK_SHAPE(!is_mean || plan.reduce_count > 0,
                  "{}: the reduced axes of input {} hold no elements", op, describe(xv));
  const double scale = is_mean ? 1.0 / static_cast<double>(plan.reduce_count) : 1.0;
  Tensor y = Tensor::empty(reduced_shape(xv.shape(), flags, keepdims), xv.dtype(), xv.device());
  kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::sum_forward_cuda<T>(xv.data<T>(), plan, scale, y.data<T>(), xv.device().index);
      return;
    }
#endif
    kernels::sum_forward_cpu<T>(xv.data<T>(), plan, scale, y.data<T>());
  });
  return record1(op, {x}, y,
                 [op, plan, scale, in_shape = xv.shape()](const std::vector<Tensor>& grads,
                                                          const std::vector<bool>&) {
                   const Tensor& gy = grads[0];
                   Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
                   kernels::dispatch_float(op, gy.dtype(), [&](auto tag) {
                     using T = decltype(tag);
#ifdef ASN_WITH_CUDA
                     if (gy.device().is_cuda()) {
                       kernels::sum_backward_cuda<T>(gy.data<T>(), plan, scale, gx.data<T>(),
                                                     gy.device().index);
                       return;
                     }
#endif
                     kernels::sum_backward_cpu<T>(gy.data<T>(), plan, scale, gx.data<T>());
                   });
                   return std::vector<Tensor>{gx};
                 });
}

Variable extreme_all(const char* op, const Variable& x, Extreme kind) {
  OpScope scope(op);
  check_input(op, x);
  const Tensor xv = x.value();
  ASN_CHECK_SHAPE(xv.numel() > 0, "{}: input {} has no elements", op, describe(xv));
  Tensor y = Tensor::empty(Shape{1}, xv.dtype(), xv.device());
  kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::extreme_all_forward_cuda<T>(xv.data<T>(), xv.numel(), kind, y.data<T>(),
                                           xv.device().index);
      return;
    }
#endif
    kernels::extreme_all_forward_cpu<T>(xv.data<T>(), xv.numel(), kind, y.data<T>());
  });
  return record1(
      op, {x}, y, [op, xv, y](const std::vector<Tensor>& grads, const std::vector<bool>&) {
        const Tensor& gy = grads[0];
        Tensor gx = Tensor::empty(xv.shape(), gy.dtype(), gy.device());
        kernels::dispatch_float(op, gy.dtype(), [&](auto tag) {
          using T = decltype(tag);
#ifdef ASN_WITH_CUDA
          if (gy.device().is_cuda()) {
            kernels::extreme_all_backward_cuda<T>(xv.data<T>(), xv.numel(), y.data<T>(),
                                                  gy.data<T>(), gx.data<T>(), gy.device().index);
            return;
          }
#endif
          kernels::extreme_all_backward_cpu<T>(xv.data<T>(), xv.numel(), y.data<T>(), gy.data<T>(),
                                               gx.data<T>());
        });
        return std::vector<Tensor>{gx};
      });
}

Variable extreme_axis(const char* op, const Variable& x, int axis, bool keepdims, Extreme kind) {
  OpScope scope(op);
  check_input(op, x);
  const Tensor xv = x.value();
  const int a = checked_axis(op, xv, axis);
  const int64_t outer = xv.shape().prod(0, a);
  const int64_t len = xv.dim(a);
  const int64_t inner = xv.shape().prod(a + 1, xv.rank());
  ASN_CHECK_SHAPE(len > 0, "{}: axis {} of input {} is empty", op, axis, describe(xv));
  std::vector<bool> flags(static_cast<size_t>(xv.rank()), false);
  flags[static_cast<size_t>(a)] = true;
  Tensor y = Tensor::empty(reduced_shape(xv.shape(), flags, keepdims), xv.dtype(), xv.device());
  kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (xv.device().is_cuda()) {
      kernels::extreme_axis_forward_cuda<T>(xv.data<T>(), outer, len, inner, kind, y.data<T>(),
                                            xv.device().index);
      return;
    }
#endif
    kernels::extreme_axis_forward_cpu<T>(xv.data<T>(), outer, len, inner, kind, y.data<T>());
  });
  return record1(
      op, {x}, y,
      [op, xv, y, outer, len, inner](const std::vector<Tensor>& grads, const std::vector<bool>&) {
        const Tensor& gy = grads[0];
        Tensor gx = Tensor::empty(xv.shape(), gy.dtype(), gy.device());
        kernels::dispatch_float(op, gy.dtype(), [&](auto tag) {
          using T = decltype(tag);
#ifdef ASN_WITH_CUDA
          if (gy.device().is_cuda()) {
            kernels::extreme_axis_backward_cuda<T>(xv.data<T>(), outer, len, inner, y.data<T>(),
                                                   gy.data<T>(), gx.data<T>(), gy.device().index);
            return;
          }
#endif
          kernels::extreme_axis_backward_cpu<T>(xv.data<T>(), outer, len, inner, y.data<T>(),
                                                gy.data<T>(), gx.data<T>());
        });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace

Variable sum(const Variable& x, const std::vector<int>& axes, bool keepdims) {
  return sum_or_mean("sum", x, axes, keepdims, false);
}

Variable mean(const Variable& x, const std::vector<int>& axes, bool keepdims) {
  return sum_or_mean("mean", x, axes, keepdims, true);
}

Variable reduce_max(const Variable& x) { return extreme_all("reduce_max", x, Extreme::max); }
Variable reduce_min(const Variable& x) { return extreme_all("reduce_min", x, Extreme::min); }

Variable reduce_max(const Variable& x, int axis, bool keepdims) {
  return extreme_axis("reduce_max", x, axis, keepdims, Extreme::max);
}

Variable reduce_min(const Variable& x, int axis, bool keepdims) {
  return extreme_axis("reduce_min", x, axis, keepdims, Extreme::min);
}

}  // namespace asn::ag
