// Training losses as differentiable functions: both reduce to a (1,)-shaped Variable that can be
// the root of ag::backward. Gradients flow to the logits only (labels and targets are data).
//
//   softmax_cross_entropy        single-label classification (Kinetics, MiT, UCF101): mean over
//                                the batch of -sum_k t'_k log softmax(z)_k, with Keras/TF label
//                                smoothing t' = (1 - s) * t + s / K.
//   sigmoid_binary_cross_entropy multi-label classification (Charades): mean over all B * K
//                                elements of the stable logistic loss.
//
// Maths and layouts: kernels/loss/softmax_cross_entropy.h and
// kernels/loss/sigmoid_binary_cross_entropy.h.
#pragma once

#include "autograd/variable.h"

namespace asn::ag {

// logits (B, K) f32/f64. labels: either int32 class indices (B,) with values in [0, K) (an index
// out of range is a ValueError naming the batch row and the value), or dense targets (B, K) of
// the logits' dtype (one-hot or soft). label_smoothing s in [0, 1). Returns the mean loss, (1,).
// Gradient w.r.t. logits: (softmax(z) * sum_k t'_k - t') / B, i.e. (softmax - t') / B for targets
// that sum to 1.
Variable softmax_cross_entropy(const Variable& logits, const Tensor& labels,
                               double label_smoothing = 0.0);

// logits (B, K) f32/f64, targets (B, K) of the same dtype with values in [0, 1]. Returns
// mean_bk(max(z, 0) - z t + log(1 + exp(-|z|))), (1,). Gradient: (sigmoid(z) - t) / (B K).
Variable sigmoid_binary_cross_entropy(const Variable& logits, const Tensor& targets);

}  // namespace asn::ag
