// Batch normalisation over every axis but the last (channels-last input of any rank >= 2: an
// (N, T, H, W, C) tensor is M = N*T*H*W rows of C channels), with an optional fused ReLU.
//
// Training (batch statistics):
//   mean_c = (1/M) sum_r x[r, c]          var_c = (1/M) sum_r (x[r, c] - mean_c)^2   (biased)
//   y = gamma_c * (x - mean_c) / sqrt(var_c + eps) + beta_c      (then max(y, 0) when fused ReLU)
//   moving_mean = momentum * moving_mean + (1 - momentum) * mean_c
//   moving_var  = momentum * moving_var  + (1 - momentum) * var_c * M / (M - 1)
// The moving variance takes the UNBIASED batch variance (Bessel's correction, with M - 1 clamped
// to >= 1 as TF does), matching TF's fused batch norm (what tf.layers.batch_normalization runs on
// the reference's 4-D (N*T, H, W, C) activations) and PyTorch; the normalisation itself uses the
// biased variance. (Keras' non-fused path would feed the biased variance; we do not follow it.)
// Evaluation: mean and var are the moving statistics: an affine map per channel.
// gamma / beta may be null (scale 1 / shift 0).
//
// Backward (dy' = dy, or dy * [y > 0] with the fused ReLU; xhat = (x - mean) * invstd):
//   dbeta = sum_r dy'      dgamma = sum_r dy' * xhat
//   training: dx = gamma * invstd * (dy' - dbeta / M - xhat * dgamma / M)
//   eval:     dx = gamma * invstd * dy'
// Saved for backward: x, gamma, the per-channel mean and invstd used (batch or moving, written by
// the forward into save_mean / save_invstd), and y when the ReLU is fused.
//
// Accuracy and determinism: per-channel sums are accumulated in double, the variance in a second
// pass around the mean (no cancellation in f32). Rows are split statically into one chunk per
// thread, each chunk keeps its own partial sums, and the partials are added in chunk order, so the
// result depends only on the thread count.
//
// CUDA (batch_norm_cuda.cu), at most three launches per direction, none with atomics:
//   statistics: ONE pass over x. Blocks tile (row chunk, channel tile); a thread owns one pack of
//     4 floats / 2 doubles of channels (one channel when C or the pointers do not allow packs) and
//     walks the chunk's rows, accumulating d = x - x[0, c] and d^2 in double (bn_shifted_stats:
//     shifting by a value of the channel keeps the one-pass variance free of cancellation). The
//     block adds its row groups in a fixed order and writes one partial per (channel, chunk).
//   finalize: one warp per channel adds the chunk partials with a fixed tree, writes save_mean,
//     save_invstd, the running statistics and the per-channel affine coefficients.
//   normalise: one pass over x with the coefficients in registers (ReLU fused).
// Backward mirrors it: one pass for the two per-channel sums (skipped in evaluation when only dx is
// wanted), a finalize, one pass for dx. The chunking depends only on (rows, channels), so results
// are reproducible bit for bit; they differ from the CPU's only by rounding (the CPU's variance is
// two-pass).
#pragma once

#include <cstdint>

namespace asn::kernels {

struct BatchNormParams {
  int64_t rows = 0;      // M = product of every axis but the last
  int64_t channels = 0;  // C, the last axis
  double eps = 1e-5;
  double momentum = 0.99;
  bool relu = false;  // fused ReLU after the affine map
};

// Training forward. Writes y (rows * channels), save_mean and save_invstd (channels each) and, when
// running_mean / running_var are not null, updates them in place.
template <class T>
void batch_norm_forward_train_cpu(const BatchNormParams& p, const T* x, const T* gamma,
                                  const T* beta, T* y, T* save_mean, T* save_invstd,
                                  T* running_mean, T* running_var);

// Evaluation forward with the moving statistics. save_mean / save_invstd receive the moving mean
// and 1 / sqrt(moving_var + eps) for the backward.
template <class T>
void batch_norm_forward_eval_cpu(const BatchNormParams& p, const T* x, const T* gamma,
                                 const T* beta, const T* running_mean, const T* running_var, T* y,
                                 T* save_mean, T* save_invstd);

// Recomputes the forward's y from x and the statistics it saved: y = bn_apply(x, mean,
// gamma * invstd, beta) (then the ReLU when p.relu), with the same coefficients and arithmetic as
// either forward, so y is bit for bit the one the forward wrote on the same device. Used by the
// memory-saving mode (autograd/recompute.h), which frees y after the forward pass.
template <class T>
void batch_norm_apply_cpu(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                          const T* mean, const T* invstd, T* y);

// Backward for either mode. y is read only with the fused ReLU. dx, dgamma, dbeta may each be null
// (not wanted).
template <class T>
void batch_norm_backward_cpu(const BatchNormParams& p, bool training, const T* dy, const T* x,
                             const T* y, const T* gamma, const T* save_mean, const T* save_invstd,
                             T* dx, T* dgamma, T* dbeta);

#ifdef ASN_WITH_CUDA
// The same contracts on device pointers, launched on asn::cuda::stream(device).
template <class T>
void batch_norm_forward_train_cuda(const BatchNormParams& p, const T* x, const T* gamma,
                                   const T* beta, T* y, T* save_mean, T* save_invstd,
                                   T* running_mean, T* running_var, int device);
template <class T>
void batch_norm_forward_eval_cuda(const BatchNormParams& p, const T* x, const T* gamma,
                                  const T* beta, const T* running_mean, const T* running_var, T* y,
                                  T* save_mean, T* save_invstd, int device);
template <class T>
void batch_norm_apply_cuda(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                           const T* mean, const T* invstd, T* y, int device);
template <class T>
void batch_norm_backward_cuda(const BatchNormParams& p, bool training, const T* dy, const T* x,
                              const T* y, const T* gamma, const T* save_mean, const T* save_invstd,
                              T* dx, T* dgamma, T* dbeta, int device);
#endif

}  // namespace asn::kernels
