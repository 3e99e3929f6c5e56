// Temporal soft-max pooling of per-frame logits (assemblenet-spec §6, `max_pool_predictions`):
//
//   z (N, T, K) -> y (N, K),  a_t = softmax over t of (z_t / tau),  y = sum_t a_t z_t,  tau = sqrt(T)
//
// Backward: dy/dz_s = a_s + a_s (z_s - y) / tau. Saved for backward: z and y (a is recomputed).
#pragma once

#include <cstdint>

namespace asn::kernels {

// z (N, T, K) -> y (N, K).
template <class T>
void temporal_softmax_pool_forward_cpu(const T* z, int64_t N, int64_t Tn, int64_t K, double tau, T* y);
// dz (N, T, K) from dy (N, K); dz is overwritten.
template <class T>
void temporal_softmax_pool_backward_cpu(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn, int64_t K,
                                        double tau, T* dz);

}  // namespace asn::kernels
