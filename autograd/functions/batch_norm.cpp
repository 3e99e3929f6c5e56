// Differentiable batch normalisation (autograd/functions/batch_norm.h): validates the arguments,
// runs the training or evaluation kernel on x's device, CPU or CUDA (training also updates the
// running statistics in place), and records one node over the defined inputs among (x, gamma,
// beta).
#include "autograd/functions/batch_norm.h"

#include "autograd/checkpoint.h"
#include "autograd/checks.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/norm/batch_norm.h"

namespace asn::ag {

namespace {

// Checks an optional per-channel Variable: undefined, or (C,) of x's dtype and device.
void check_channel_vector(const char* op, const char* what, const Variable& v, const Tensor& x) {
  if (!v.defined()) return;
  check_same_type(op, what, v.value(), "x", x);
  const int64_t C = x.dim(-1);
  ASN_CHECK_SHAPE(v.shape() == Shape{C}, "{}: {} must have shape ({},) for x {}, got {}", op, what,
                  C, describe(x), describe(v.value()));
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <class T>
T* mutable_ptr_or_null(const Variable& v) {
  return v.defined() ? v.value().data<T>() : nullptr;
}

// Device dispatch of the kernels: every pointer lives on x's device (checked by the caller).
template <class T>
void forward_train(const kernels::BatchNormParams& p, const Tensor& x, const T* gamma,
                   const T* beta, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                   T* running_mean, T* running_var) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::batch_norm_forward_train_cuda<T>(p, x.data<T>(), gamma, beta, y.data<T>(),
                                              save_mean.data<T>(), save_invstd.data<T>(),
                                              running_mean, running_var, x.device().index);
    return;
  }
#endif
  kernels::batch_norm_forward_train_cpu<T>(p, x.data<T>(), gamma, beta, y.data<T>(),
                                           save_mean.data<T>(), save_invstd.data<T>(),
                                           running_mean, running_var);
}

template <class T>
void forward_eval(const kernels::BatchNormParams& p, const Tensor& x, const T* gamma, const T* beta,
                  const T* running_mean, const T* running_var, Tensor& y, Tensor& save_mean,
                  Tensor& save_invstd) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::batch_norm_forward_eval_cuda<T>(p, x.data<T>(), gamma, beta, running_mean,
                                             running_var, y.data<T>(), save_mean.data<T>(),
                                             save_invstd.data<T>(), x.device().index);
    return;
  }
#endif
  kernels::batch_norm_forward_eval_cpu<T>(p, x.data<T>(), gamma, beta, running_mean, running_var,
                                          y.data<T>(), save_mean.data<T>(), save_invstd.data<T>());
}

template <class T>
void backward_kernel(const kernels::BatchNormParams& p, bool training, const Tensor& dy,
                     const Tensor& x, const T* y, const T* gamma, const Tensor& save_mean,
                     const Tensor& save_invstd, T* dx, T* dgamma, T* dbeta) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::batch_norm_backward_cuda<T>(p, training, dy.data<T>(), x.data<T>(), y, gamma,
                                         save_mean.data<T>(), save_invstd.data<T>(), dx, dgamma,
                                         dbeta, x.device().index);
    return;
  }
#endif
  kernels::batch_norm_backward_cpu<T>(p, training, dy.data<T>(), x.data<T>(), y, gamma,
                                      save_mean.data<T>(), save_invstd.data<T>(), dx, dgamma,
                                      dbeta);
}

// y rebuilt from x and the saved statistics (the memory-saving mode).
template <class T>
void apply_kernel(const kernels::BatchNormParams& p, const Tensor& x, const T* gamma, const T* beta,
                  const Tensor& mean, const Tensor& invstd, Tensor& y) {
#ifdef ASN_WITH_CUDA
  if (x.device().is_cuda()) {
    kernels::batch_norm_apply_cuda<T>(p, x.data<T>(), gamma, beta, mean.data<T>(),
                                      invstd.data<T>(), y.data<T>(), x.device().index);
    return;
  }
#endif
  kernels::batch_norm_apply_cpu<T>(p, x.data<T>(), gamma, beta, mean.data<T>(), invstd.data<T>(),
                                   y.data<T>());
}

Variable batch_norm_impl(const char* op, bool relu, const Variable& x, const Variable& gamma,
                         const Variable& beta, const Variable& running_mean,
                         const Variable& running_var, const BatchNormOptions& opt) {
  OpScope scope(op);
  ASN_CHECK_TYPE(x.defined(), "{}: x is an undefined Variable", op);
  const Tensor& xv = x.value();
  check_floating(op, "x", xv);
  ASN_CHECK_SHAPE(xv.rank() >= 2 && xv.dim(-1) >= 1,
                  "{}: x must have rank >= 2 with channels last, e.g. (N, T, H, W, C), got {}", op,
                  describe(xv));
  check_channel_vector(op, "gamma", gamma, xv);
  check_channel_vector(op, "beta", beta, xv);
  check_channel_vector(op, "running_mean", running_mean, xv);
  check_channel_vector(op, "running_var", running_var, xv);
  for (const Variable* v : {&running_mean, &running_var}) {
    ASN_CHECK(!v->requires_grad(),
              "{}: the running statistics are buffers and must not require a gradient, got '{}' {}",
              op, v->name(), describe(v->value()));
  }
  ASN_CHECK(opt.momentum >= 0 && opt.momentum <= 1, "{}: momentum must be in [0, 1], got {}", op,
            opt.momentum);
  ASN_CHECK(opt.eps > 0, "{}: eps must be > 0, got {}", op, opt.eps);
  const int64_t C = xv.dim(-1);
  const int64_t rows = xv.numel() / C;
  if (opt.training) {
    ASN_CHECK_SHAPE(rows >= 1, "{}: training needs at least one row per channel, x is {}", op,
                    describe(xv));
  } else {
    ASN_CHECK(running_mean.defined() && running_var.defined(),
              "{}: evaluation mode needs running_mean and running_var (x {})", op, describe(xv));
  }
#ifndef ASN_WITH_CUDA
  if (xv.device().is_cuda()) throw_no_cuda(op);
#endif

  kernels::BatchNormParams p;
  p.rows = rows;
  p.channels = C;
  p.eps = opt.eps;
  p.momentum = opt.momentum;
  p.relu = relu;
  const Tensor gv = gamma.defined() ? gamma.value().clone() : Tensor();  // forward-time gamma
  // Memory-saving mode (autograd/recompute.h): y is rebuilt in backward rather than saved, which
  // needs the forward-time beta too.
  const bool recompute = recompute_enabled() && grad_enabled();
  const Tensor bv = beta.defined() ? (recompute ? beta.value().clone() : beta.value()) : Tensor();
  Tensor y = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
  Tensor save_mean = Tensor::empty(Shape{C}, xv.dtype(), xv.device());
  Tensor save_invstd = Tensor::empty(Shape{C}, xv.dtype(), xv.device());
  kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (opt.training) {
      // A checkpoint recomputing its segment (autograd/checkpoint.h) must not update the running
      // statistics a second time.
      const bool update = !recomputing_forward();
      forward_train<T>(p, xv, ptr_or_null<T>(gv), ptr_or_null<T>(bv), y, save_mean, save_invstd,
                       update ? mutable_ptr_or_null<T>(running_mean) : nullptr,
                       update ? mutable_ptr_or_null<T>(running_var) : nullptr);
    } else {
      forward_eval<T>(p, xv, ptr_or_null<T>(gv), ptr_or_null<T>(bv),
                      running_mean.value().data<T>(), running_var.value().data<T>(), y, save_mean,
                      save_invstd);
    }
  });

  // Inputs recorded: x, then gamma and beta where defined.
  std::vector<Variable> inputs{x};
  const int gamma_index = gamma.defined() ? static_cast<int>(inputs.size()) : -1;
  if (gamma.defined()) inputs.push_back(gamma);
  const int beta_index = beta.defined() ? static_cast<int>(inputs.size()) : -1;
  if (beta.defined()) inputs.push_back(beta);
  const size_t n_inputs = inputs.size();
  const bool training = opt.training;
  // Saved for backward: x, gamma (forward-time copy), the mean and invstd used, and with the ReLU
  // y, or in the memory-saving mode the Recomputable that rebuilds y.
  std::shared_ptr<Recomputable> rc;
  if (recompute) {
    rc = std::make_shared<Recomputable>(y, [op, p, xv, gv, bv, save_mean, save_invstd] {
      Tensor out = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
      kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
        using T = decltype(tag);
        apply_kernel<T>(p, xv, ptr_or_null<T>(gv), ptr_or_null<T>(bv), save_mean, save_invstd,
                        out);
      });
      return out;
    });
  }
  const Tensor y_saved = relu && !rc ? y : Tensor();
  Variable out = record1(
      op, inputs, y,
      [op, p, training, xv, y_saved, rc, gv, save_mean, save_invstd, gamma_index, beta_index,
       n_inputs](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
        // The last user of a recomputed y: take it (ReLU mask) and release it.
        const Tensor y_used = rc && p.relu ? rc->get() : y_saved;
        if (rc) rc->release();
        std::vector<Tensor> grads(n_inputs);
        const bool want_gamma = gamma_index >= 0 && needs[static_cast<size_t>(gamma_index)];
        const bool want_beta = beta_index >= 0 && needs[static_cast<size_t>(beta_index)];
        const Shape cshape{p.channels};
        if (needs[0]) grads[0] = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
        if (want_gamma) {
          grads[static_cast<size_t>(gamma_index)] = Tensor::empty(cshape, xv.dtype(), xv.device());
        }
        if (want_beta) {
          grads[static_cast<size_t>(beta_index)] = Tensor::empty(cshape, xv.dtype(), xv.device());
        }
        kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* dx = needs[0] ? grads[0].data<T>() : nullptr;
          T* dgamma = want_gamma ? grads[static_cast<size_t>(gamma_index)].data<T>() : nullptr;
          T* dbeta = want_beta ? grads[static_cast<size_t>(beta_index)].data<T>() : nullptr;
          backward_kernel<T>(p, training, g[0], xv, ptr_or_null<T>(y_used), ptr_or_null<T>(gv),
                             save_mean, save_invstd, dx, dgamma, dbeta);
        });
        return grads;
      });
  if (rc && out.requires_grad()) out.set_recomputable(rc);
  return out;
}

}  // namespace

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    const Variable& running_mean, const Variable& running_var,
                    const BatchNormOptions& options) {
  return batch_norm_impl("batch_norm", false, x, gamma, beta, running_mean, running_var, options);
}

Variable batch_norm_relu(const Variable& x, const Variable& gamma, const Variable& beta,
                         const Variable& running_mean, const Variable& running_var,
                         const BatchNormOptions& options) {
  return batch_norm_impl("batch_norm_relu", true, x, gamma, beta, running_mean, running_var,
                         options);
}

}  // namespace asn::ag
