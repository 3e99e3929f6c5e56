// Softmax cross-entropy over the class axis of (B, K) logits, per batch row.
//
//   lse_b   = log sum_k exp(z_bk)                      (stable: m_b + log sum_k exp(z_bk - m_b))
//   t'_bk   = (1 - s) * t_bk + s / K                   label smoothing s in [0, 1) (Keras/TF)
//   loss_b  = sum_k t'_bk * (lse_b - z_bk)             (= -sum_k t'_bk log softmax(z_b)_k)
//   dz_bk   = scale * (softmax(z_b)_k * sum_k' t'_bk' - t'_bk)
//
// The target t is either a class index per row (labels, int32 (B,): t = one-hot) or a dense
// (B, K) float tensor (soft or one-hot targets). For targets that sum to 1 per row (one-hot,
// probability vectors) the gradient is the familiar softmax - t'; the general form above is the
// exact derivative for any targets. `scale` carries the upstream gradient of the mean: dL / B.
//
// Layout: logits, targets, dlogits (B, K) row-major; labels, row_loss, row_lse (B,).
// Saved for backward: logits, the target (labels or targets) and row_lse (so backward forms
// softmax = exp(z - lse) without a second reduction).
// Labels must already be validated to lie in [0, K) (the autograd function does it with an error
// naming the row and the value). Determinism: rows are independent and each row is reduced
// serially in a fixed order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace asn::kernels {

struct SoftmaxCrossEntropyParams {
  int64_t batch = 0;             // B
  int64_t classes = 0;           // K
  double label_smoothing = 0.0;  // s in [0, 1)
};

// Exactly one of `labels` / `targets` is non-null. Writes row_loss (B,) and row_lse (B,).
template <class T>
void softmax_cross_entropy_forward_cpu(const SoftmaxCrossEntropyParams& p, const T* logits,
                                       const int32_t* labels, const T* targets, T* row_loss,
                                       T* row_lse);

// Writes dlogits (B, K) = scale * (softmax * sum(t') - t').
template <class T>
void softmax_cross_entropy_backward_cpu(const SoftmaxCrossEntropyParams& p, const T* logits,
                                        const int32_t* labels, const T* targets, const T* row_lse,
                                        double scale, T* dlogits);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)): one warp
// per row, sums in double by a fixed lane-stride and shuffle order. Backward reads the upstream
// gradient of the mean loss from the device (`dloss`, one value) and uses
// scale = dloss / divisor (divisor = B for the batch mean), so nothing waits for the host.
template <class T>
void softmax_cross_entropy_forward_cuda(const SoftmaxCrossEntropyParams& p, const T* logits,
                                        const int32_t* labels, const T* targets, T* row_loss,
                                        T* row_lse, int device);
template <class T>
void softmax_cross_entropy_backward_cuda(const SoftmaxCrossEntropyParams& p, const T* logits,
                                         const int32_t* labels, const T* targets, const T* row_lse,
                                         const T* dloss, double divisor, T* dlogits, int device);
#endif

}  // namespace asn::kernels
