// Differentiable elementwise arithmetic (autograd/functions/elementwise.h): validate, run the CPU
// or CUDA kernel on the operands' device (outputs and gradients are allocated there), record one
// tape node.
#include "autograd/functions/elementwise.h"

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise/broadcast.h"
#include "kernels/elementwise/scale.h"

namespace asn::ag {

namespace {

using kernels::BinaryOp;

const Tensor& checked_value(const char* op, const char* what, const Variable& v) {
  ASN_CHECK_TYPE(v.defined(), "{}: {} is an undefined Variable", op, what);
  check_floating(op, what, v.value());
#ifndef ASN_WITH_CUDA
  if (v.device().is_cuda()) throw_no_cuda(op);
#endif
  return v.value();
}

// Device dispatch of the kernels; every pointer lives on the device of the first tensor argument
// (the callers checked that the operands share it).
template <class T>
void binary_forward(BinaryOp kind, const kernels::BroadcastPlan& plan, const Tensor& a,
                    const Tensor& b, Tensor& out) {
#ifdef ASN_WITH_CUDA
  if (a.device().is_cuda()) {
    kernels::binary_forward_cuda<T>(kind, plan, a.data<T>(), b.data<T>(), out.data<T>(),
                                    a.device().index);
    return;
  }
#endif
  kernels::binary_forward_cpu<T>(kind, plan, a.data<T>(), b.data<T>(), out.data<T>());
}

template <class T>
void binary_backward(BinaryOp kind, int which, const kernels::BroadcastPlan& plan,
                     const Tensor& dout, const T* a, const T* b, Tensor& grad) {
#ifdef ASN_WITH_CUDA
  if (dout.device().is_cuda()) {
    kernels::binary_backward_cuda<T>(kind, which, plan, dout.data<T>(), a, b, grad.data<T>(),
                                     dout.device().index);
    return;
  }
#endif
  kernels::binary_backward_cpu<T>(kind, which, plan, dout.data<T>(), a, b, grad.data<T>());
}

template <class T>
void add_n_kernel(const std::vector<const T*>& xs, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (y.device().is_cuda()) {
    kernels::add_n_cuda<T>(xs.data(), static_cast<int>(xs.size()), y.data<T>(), y.numel(),
                           y.device().index);
    return;
  }
#endif
  kernels::add_n_cpu<T>(xs.data(), static_cast<int>(xs.size()), y.data<T>(), y.numel());
}

template <class T>
void scale_kernel(const Tensor& x, double alpha, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::scale_cuda<T>(x.data<T>(), static_cast<T>(alpha), y.data<T>(), x.numel(),
                           x.device().index);
    return;
  }
#endif
  kernels::scale_cpu<T>(x.data<T>(), static_cast<T>(alpha), y.data<T>(), x.numel());
}

Variable binary(const char* op, BinaryOp kind, const Variable& a, const Variable& b) {
  OpScope scope(op);
  const Tensor& av = checked_value(op, "a", a);
  const Tensor& bv = checked_value(op, "b", b);
  check_same_type(op, "b", bv, "a", av);
  ASN_CHECK_SHAPE(kernels::broadcastable(av.shape(), bv.shape()),
                  "{}: a {} and b {} do not broadcast (same rank needed, and each axis equal or 1)",
                  op, describe(av), describe(bv));
  const kernels::BroadcastPlan plan = kernels::make_broadcast_plan(av.shape(), bv.shape());
  Tensor out =
      Tensor::empty(kernels::broadcast_shape(av.shape(), bv.shape()), av.dtype(), av.device());
  kernels::dispatch_float(op, av.dtype(), [&](auto tag) {
    using T = decltype(tag);
    binary_forward<T>(kind, plan, av, bv, out);
  });
  // Saved for backward: the plan and shapes; for mul, each operand only where the other one
  // needs a gradient (d/da = g * b, d/db = g * a).
  const bool mul_op = kind == BinaryOp::mul;
  const Tensor sa = mul_op && b.requires_grad() ? av : Tensor();
  const Tensor sb = mul_op && a.requires_grad() ? bv : Tensor();
  const Shape shape_a = av.shape(), shape_b = bv.shape();
  return record1(
      op, {a, b}, out,
      [op, kind, plan, sa, sb, shape_a, shape_b](const std::vector<Tensor>& g,
                                                 const std::vector<bool>& needs) {
        const Tensor& dout = g[0];
        std::vector<Tensor> grads(2);
        // An operand of the output's shape whose derivative is 1 (a of add and sub, b of add)
        // gets dout itself; the tape copies where gradients alias.
        if (needs[0] && kind != BinaryOp::mul && shape_a == dout.shape()) grads[0] = dout;
        if (needs[1] && kind == BinaryOp::add && shape_b == dout.shape()) grads[1] = dout;
        kernels::dispatch_float(op, dout.dtype(), [&](auto tag) {
          using T = decltype(tag);
          const T* pa = sa.defined() ? sa.data<T>() : nullptr;
          const T* pb = sb.defined() ? sb.data<T>() : nullptr;
          for (int which = 0; which < 2; ++which) {
            if (!needs[static_cast<size_t>(which)] || grads[static_cast<size_t>(which)].defined()) {
              continue;
            }
            Tensor gr = Tensor::empty(which == 0 ? shape_a : shape_b, dout.dtype(), dout.device());
            binary_backward<T>(kind, which, plan, dout, pa, pb, gr);
            grads[static_cast<size_t>(which)] = gr;
          }
        });
        return grads;
      });
}

}  // namespace

Variable add(const Variable& a, const Variable& b) { return binary("add", BinaryOp::add, a, b); }
Variable sub(const Variable& a, const Variable& b) { return binary("sub", BinaryOp::sub, a, b); }
Variable mul(const Variable& a, const Variable& b) { return binary("mul", BinaryOp::mul, a, b); }

Variable add_n(const std::vector<Variable>& xs) {
  OpScope scope("add_n");
  ASN_CHECK(!xs.empty(), "add_n: needs at least one input, got none");
  const Tensor& first = checked_value("add_n", "xs[0]", xs[0]);
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string what = fmt::format("xs[{}]", i);
    const Tensor& v = checked_value("add_n", what.c_str(), xs[i]);
    check_same_type("add_n", what.c_str(), v, "xs[0]", first);
    ASN_CHECK_SHAPE(v.shape() == first.shape(), "add_n: {} {} differs in shape from xs[0] {}", what,
                    describe(v), describe(first));
  }
  Tensor y = Tensor::empty(first.shape(), first.dtype(), first.device());
  kernels::dispatch_float("add_n", first.dtype(), [&](auto tag) {
    using T = decltype(tag);
    std::vector<const T*> p;
    for (const Variable& x : xs) p.push_back(x.value().data<T>());
    add_n_kernel<T>(p, y);
  });
  const size_t n = xs.size();
  return record1("add_n", xs, y, [n](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
    std::vector<Tensor> grads(n);
    for (size_t i = 0; i < n; ++i) {
      if (needs[i]) grads[i] = g[0];  // the tape copies where tensors alias
    }
    return grads;
  });
}

Variable scale(const Variable& x, double alpha) {
  OpScope scope("scale");
  const Tensor& xv = checked_value("scale", "x", x);
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  kernels::dispatch_float("scale", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<T>(xv, alpha, y);
  });
  return record1("scale", {x}, y, [alpha](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(g[0].shape(), g[0].dtype(), g[0].device());
    kernels::dispatch_float("scale", g[0].dtype(), [&](auto tag) {
      using T = decltype(tag);
      scale_kernel<T>(g[0], alpha, dx);
    });
    return std::vector<Tensor>{dx};
  });
}

Variable scale_by(const Variable& x, const Variable& s) {
  OpScope scope("scale_by");
  const Tensor& xv = checked_value("scale_by", "x", x);
  const Tensor& sv = checked_value("scale_by", "s", s);
  check_same_type("scale_by", "s", sv, "x", xv);
  ASN_CHECK_SHAPE(sv.numel() == 1,
                  "scale_by: s must hold exactly one element (shape (1,)), got {} (x {})",
                  describe(sv), describe(xv));
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  // Saved for backward: x only when s needs a gradient.
  const Tensor x_saved = s.requires_grad() ? xv : Tensor();
  const Shape s_shape = sv.shape();
#ifdef ASN_WITH_CUDA
  if (xv.device().is_cuda()) {
    // s stays on the device (no host sync): a copy of its forward-time value is saved, so backward
    // uses that value even if the parameter changes before backward runs.
    const Tensor s_saved = sv.clone();
    const int dev = xv.device().index;
    kernels::dispatch_float("scale_by", xv.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::scale_by_cuda<T>(xv.data<T>(), s_saved.data<T>(), y.data<T>(), xv.numel(), dev);
    });
    return record1(
        "scale_by", {x, s}, y,
        [x_saved, s_saved, s_shape, dev](const std::vector<Tensor>& g,
                                         const std::vector<bool>& needs) {
          const Tensor& dy = g[0];
          std::vector<Tensor> grads(2);
          kernels::dispatch_float("scale_by", dy.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (needs[0]) {
              grads[0] = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
              kernels::scale_by_cuda<T>(dy.data<T>(), s_saved.data<T>(), grads[0].data<T>(),
                                        dy.numel(), dev);
            }
            if (needs[1]) {
              grads[1] = Tensor::empty(s_shape, dy.dtype(), dy.device());
              kernels::dot_cuda<T>(dy.data<T>(), x_saved.data<T>(), dy.numel(),
                                   grads[1].data<T>(), dev);
            }
          });
          return grads;
        });
  }
#endif
  // The scalar as read now (exact in double for f32 and f64): backward uses this forward-time value
  // even if the parameter changes before backward runs.
  const double s_value = sv.item();
  kernels::dispatch_float("scale_by", xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::scale_cpu<T>(xv.data<T>(), static_cast<T>(s_value), y.data<T>(), xv.numel());
  });
  return record1(
      "scale_by", {x, s}, y,
      [x_saved, s_value, s_shape](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
        const Tensor& dy = g[0];
        std::vector<Tensor> grads(2);
        kernels::dispatch_float("scale_by", dy.dtype(), [&](auto tag) {
          using T = decltype(tag);
          if (needs[0]) {
            grads[0] = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
            kernels::scale_cpu<T>(dy.data<T>(), static_cast<T>(s_value), grads[0].data<T>(),
                                  dy.numel());
          }
          if (needs[1]) {
            grads[1] = Tensor::empty(s_shape, dy.dtype(), dy.device());
            grads[1].data<T>()[0] =
                static_cast<T>(kernels::dot_cpu<T>(dy.data<T>(), x_saved.data<T>(), dy.numel()));
          }
        });
        return grads;
      });
}

}  // namespace asn::ag
