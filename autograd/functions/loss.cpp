// Differentiable losses (autograd/functions/loss.h): argument checks, the CPU kernels of
// kernels/loss/, the batch mean in double, and one tape node each.
#include "autograd/functions/loss.h"

#include <cmath>
#include <vector>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/loss/row_mean.h"
#include "kernels/loss/sigmoid_binary_cross_entropy.h"
#include "kernels/loss/softmax_cross_entropy.h"
#include "kernels/tensor_ops.h"

namespace asn::ag {

namespace {

// Common checks of the logits: defined, f32/f64, (B, K) with B, K >= 1.
void check_logits(const char* op, const Variable& logits) {
  ASN_CHECK_TYPE(logits.defined(), "{}: logits are undefined", op);
  check_floating(op, "logits", logits.value());
  check_rank(op, "logits", logits.value(), 2, "(B, K)");
  ASN_CHECK_SHAPE(logits.value().dim(0) >= 1 && logits.value().dim(1) >= 1,
                  "{}: logits must have at least one row and one class, got {}", op,
                  describe(logits.value()));
}

// The (1,)-shaped mean: the sum of the per-row losses (in double, fixed order) / count. On CUDA
// it is formed on the device (no host synchronisation).
Tensor mean_of_rows(const Tensor& row_loss, double count) {
#ifdef ASN_WITH_CUDA
  if (row_loss.device().is_cuda()) {
    Tensor loss = Tensor::empty(Shape{1}, row_loss.dtype(), row_loss.device());
    kernels::dispatch_float("loss", row_loss.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::row_mean_cuda<T>(row_loss.data<T>(), row_loss.numel(), count, loss.data<T>(),
                                row_loss.device().index);
    });
    return loss;
  }
#endif
  const double mean = kernels::sum_all(row_loss) / count;
  return Tensor::full(Shape{1}, mean, row_loss.dtype(), row_loss.device());
}

}  // namespace

Variable softmax_cross_entropy(const Variable& logits, const Tensor& labels,
                               double label_smoothing) {
  static const char* op = "softmax_cross_entropy";
  OpScope scope(op);
  check_logits(op, logits);
  const Tensor& z = logits.value();
  const int64_t B = z.dim(0), K = z.dim(1);
  ASN_CHECK(std::isfinite(label_smoothing) && label_smoothing >= 0 && label_smoothing < 1,
            "{}: label_smoothing must be in [0, 1), got {}", op, label_smoothing);
  ASN_CHECK_TYPE(labels.defined(), "{}: labels are undefined", op);
  const bool indices = labels.dtype() == DType::i32;
  if (indices) {
    ASN_CHECK_TYPE(labels.device() == z.device(),
                   "{}: labels {} must be on the device of logits {}", op, describe(labels),
                   describe(z));
    ASN_CHECK_SHAPE(labels.shape() == Shape{B},
                    "{}: int32 labels must have shape (B,) = ({},) for logits {}, got {}", op, B,
                    describe(z), describe(labels));
  } else {
    ASN_CHECK_TYPE(labels.dtype() == z.dtype() && labels.device() == z.device(),
                   "{}: labels must be int32 class indices (B,) or targets (B, K) of the logits' "
                   "dtype; got {} for logits {}",
                   op, describe(labels), describe(z));
    ASN_CHECK_SHAPE(labels.shape() == z.shape(), "{}: targets {} must have the shape of logits {}",
                    op, describe(labels), describe(z));
  }
#ifndef ASN_WITH_CUDA
  if (z.device().is_cuda()) throw_no_cuda(op);
#endif

  // The labels are data the caller may reuse: keep a private copy for backward.
  const Tensor target = labels.clone();
  if (indices) {
    // Device labels are checked on a host copy (B values).
    const std::vector<int32_t> host_labels =
        target.device().is_cuda() ? target.to_vector<int32_t>() : std::vector<int32_t>();
    const int32_t* lab = target.device().is_cuda() ? host_labels.data() : target.data<int32_t>();
    for (int64_t b = 0; b < B; ++b) {
      ASN_CHECK(lab[b] >= 0 && lab[b] < K,
                "{}: label {} at batch row {} is out of range [0, {}) for logits {}", op, lab[b], b,
                K, describe(z));
    }
  }

  kernels::SoftmaxCrossEntropyParams p;
  p.batch = B;
  p.classes = K;
  p.label_smoothing = label_smoothing;
  Tensor row_loss = Tensor::empty(Shape{B}, z.dtype(), z.device());
  Tensor row_lse = Tensor::empty(Shape{B}, z.dtype(), z.device());
  kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const int32_t* lab = indices ? target.data<int32_t>() : nullptr;
    const T* tgt = indices ? nullptr : target.data<T>();
#ifdef ASN_WITH_CUDA
    if (z.device().is_cuda()) {
      kernels::softmax_cross_entropy_forward_cuda<T>(p, z.data<T>(), lab, tgt, row_loss.data<T>(),
                                                     row_lse.data<T>(), z.device().index);
      return;
    }
#endif
    kernels::softmax_cross_entropy_forward_cpu<T>(p, z.data<T>(), lab, tgt, row_loss.data<T>(),
                                                  row_lse.data<T>());
  });
  Tensor loss = mean_of_rows(row_loss, static_cast<double>(B));

  return record1(
      op, {logits}, loss,
      [z, target, row_lse, p, indices](const std::vector<Tensor>& g, const std::vector<bool>&) {
        Tensor dz = Tensor::empty(z.shape(), z.dtype(), z.device());
        kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
          using T = decltype(tag);
          const int32_t* lab = indices ? target.data<int32_t>() : nullptr;
          const T* tgt = indices ? nullptr : target.data<T>();
#ifdef ASN_WITH_CUDA
          if (z.device().is_cuda()) {
            // The upstream gradient stays on the device: scale = g / B is formed by the kernel.
            kernels::softmax_cross_entropy_backward_cuda<T>(
                p, z.data<T>(), lab, tgt, row_lse.data<T>(), g[0].data<T>(),
                static_cast<double>(p.batch), dz.data<T>(), z.device().index);
            return;
          }
#endif
          const double scale = g[0].item() / static_cast<double>(p.batch);
          kernels::softmax_cross_entropy_backward_cpu<T>(p, z.data<T>(), lab, tgt,
                                                         row_lse.data<T>(), scale, dz.data<T>());
        });
        return std::vector<Tensor>{dz};
      });
}

Variable sigmoid_binary_cross_entropy(const Variable& logits, const Tensor& targets) {
  static const char* op = "sigmoid_binary_cross_entropy";
  OpScope scope(op);
  check_logits(op, logits);
  const Tensor& z = logits.value();
  const int64_t B = z.dim(0), K = z.dim(1);
  check_same_type(op, "targets", targets, "logits", z);
  ASN_CHECK_SHAPE(targets.shape() == z.shape(), "{}: targets {} must have the shape of logits {}",
                  op, describe(targets), describe(z));
#ifndef ASN_WITH_CUDA
  if (z.device().is_cuda()) throw_no_cuda(op);
#endif

  const Tensor target = targets.clone();
  kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // Device targets are checked on a host copy.
    const std::vector<T> host_targets =
        target.device().is_cuda() ? target.to_vector<T>() : std::vector<T>();
    const T* t = target.device().is_cuda() ? host_targets.data() : target.data<T>();
    for (int64_t i = 0; i < B * K; ++i) {
      ASN_CHECK(t[i] >= T(0) && t[i] <= T(1),
                "{}: target {} at batch row {}, class {} is outside [0, 1] (targets {})", op,
                static_cast<double>(t[i]), i / K, i % K, describe(targets));
    }
  });

  kernels::SigmoidBceParams p;
  p.batch = B;
  p.classes = K;
  Tensor row_loss = Tensor::empty(Shape{B}, z.dtype(), z.device());
  kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
    using T = decltype(tag);
#ifdef ASN_WITH_CUDA
    if (z.device().is_cuda()) {
      kernels::sigmoid_bce_forward_cuda<T>(p, z.data<T>(), target.data<T>(), row_loss.data<T>(),
                                           z.device().index);
      return;
    }
#endif
    kernels::sigmoid_bce_forward_cpu<T>(p, z.data<T>(), target.data<T>(), row_loss.data<T>());
  });
  const double count = static_cast<double>(B) * static_cast<double>(K);
  Tensor loss = mean_of_rows(row_loss, count);

  return record1(op, {logits}, loss,
                 [z, target, p, count](const std::vector<Tensor>& g, const std::vector<bool>&) {
                   Tensor dz = Tensor::empty(z.shape(), z.dtype(), z.device());
                   kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
                     using T = decltype(tag);
#ifdef ASN_WITH_CUDA
                     if (z.device().is_cuda()) {
                       // scale = g / (B K) is formed by the kernel from the device value.
                       kernels::sigmoid_bce_backward_cuda<T>(p, z.data<T>(), target.data<T>(),
                                                             g[0].data<T>(), count, dz.data<T>(),
                                                             z.device().index);
                       return;
                     }
#endif
                     const double scale = g[0].item() / count;
                     kernels::sigmoid_bce_backward_cpu<T>(p, z.data<T>(), target.data<T>(), scale,
                                                          dz.data<T>());
                   });
                   return std::vector<Tensor>{dz};
                 });
}

}  // namespace asn::ag
