// Differentiable losses (autograd/functions/loss.h): argument checks, the CPU kernels of
// kernels/loss/, the batch mean in double, and one tape node each.
#include "autograd/functions/loss.h"

#include <cmath>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
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

// The (1,)-shaped mean: the sum of the per-row losses (in double, fixed order) / count.
Tensor mean_of_rows(const Tensor& row_loss, double count) {
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
  if (z.device().is_cuda()) throw_no_cuda(op);

  // The labels are data the caller may reuse: keep a private copy for backward.
  const Tensor target = labels.clone();
  if (indices) {
    const int32_t* lab = target.data<int32_t>();
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
    kernels::softmax_cross_entropy_forward_cpu<T>(
        p, z.data<T>(), indices ? target.data<int32_t>() : nullptr,
        indices ? nullptr : target.data<T>(), row_loss.data<T>(), row_lse.data<T>());
  });
  Tensor loss = mean_of_rows(row_loss, static_cast<double>(B));

  return record1(
      op, {logits}, loss,
      [z, target, row_lse, p, indices](const std::vector<Tensor>& g, const std::vector<bool>&) {
        const double scale = g[0].item() / static_cast<double>(p.batch);
        Tensor dz = Tensor::empty(z.shape(), z.dtype(), z.device());
        kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
          using T = decltype(tag);
          kernels::softmax_cross_entropy_backward_cpu<T>(
              p, z.data<T>(), indices ? target.data<int32_t>() : nullptr,
              indices ? nullptr : target.data<T>(), row_lse.data<T>(), scale, dz.data<T>());
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
  if (z.device().is_cuda()) throw_no_cuda(op);

  const Tensor target = targets.clone();
  kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* t = target.data<T>();
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
    kernels::sigmoid_bce_forward_cpu<T>(p, z.data<T>(), target.data<T>(), row_loss.data<T>());
  });
  const double count = static_cast<double>(B) * static_cast<double>(K);
  Tensor loss = mean_of_rows(row_loss, count);

  return record1(op, {logits}, loss,
                 [z, target, p, count](const std::vector<Tensor>& g, const std::vector<bool>&) {
                   const double scale = g[0].item() / count;
                   Tensor dz = Tensor::empty(z.shape(), z.dtype(), z.device());
                   kernels::dispatch_float(op, z.dtype(), [&](auto tag) {
                     using T = decltype(tag);
                     kernels::sigmoid_bce_backward_cpu<T>(p, z.data<T>(), target.data<T>(), scale,
                                                          dz.data<T>());
                   });
                   return std::vector<Tensor>{dz};
                 });
}

}  // namespace asn::ag
