// Sigmoid binary cross-entropy on (B, K) logits, for multi-label classification (Charades).
//
//   l_bk   = max(z, 0) - z * t + log(1 + exp(-|z|))     (= -t log s(z) - (1 - t) log(1 - s(z)),
//                                                        s = sigmoid, without overflow)
//   loss   = (1 / (B K)) sum_bk l_bk                     (Keras binary_crossentropy: mean over
//                                                        classes, then over the batch)
//   dz_bk  = scale * (sigmoid(z_bk) - t_bk)              scale = dL / (B K)
//
// Layout: logits, targets, dlogits (B, K) row-major; row_loss (B,) holds sum_k l_bk per row
// (the autograd function sums the rows in double and divides by B K).
// Saved for backward: logits and targets. Targets are expected in [0, 1] (checked by the autograd
// function). Determinism: rows are independent and reduced serially in a fixed order.
#pragma once

#include <cstdint>

namespace asn::kernels {

struct SigmoidBceParams {
  int64_t batch = 0;    // B
  int64_t classes = 0;  // K
};

template <class T>
void sigmoid_bce_forward_cpu(const SigmoidBceParams& p, const T* logits, const T* targets,
                             T* row_loss);

// Writes dlogits (B, K) = scale * (sigmoid(z) - t).
template <class T>
void sigmoid_bce_backward_cpu(const SigmoidBceParams& p, const T* logits, const T* targets,
                              double scale, T* dlogits);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)): forward
// one warp per row (double sum, fixed order), backward one thread per element with
// scale = dloss / divisor read from the device (`dloss`: the upstream gradient, one value).
template <class T>
void sigmoid_bce_forward_cuda(const SigmoidBceParams& p, const T* logits, const T* targets,
                              T* row_loss, int device);
template <class T>
void sigmoid_bce_backward_cuda(const SigmoidBceParams& p, const T* logits, const T* targets,
                               const T* dloss, double divisor, T* dlogits, int device);
#endif

}  // namespace asn::kernels
