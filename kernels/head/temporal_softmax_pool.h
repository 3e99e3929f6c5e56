// Temporal soft-max pooling of per-frame logits (assemblenet-spec §6, `max_pool_predictions`):
//
//   z (N, T, K) -> y (N, K),  a_t = softmax over t of (z_t / tau),  y = sum_t a_t z_t,  tau =
//   sqrt(T)
//
// Backward: dy/dz_s = a_s + a_s (z_s - y) / tau. Saved for backward: z and y (a is recomputed).
// The per-column arithmetic (double accumulation, frames in order) is temporal_softmax_pool_math.h,
// shared by the CPU and CUDA versions; no cross-thread reductions, so both are deterministic.
#pragma once

#include <cstdint>

namespace asn::kernels {

// z (N, T, K) -> y (N, K).
template <class T>
void temporal_softmax_pool_forward_cpu(const T* z, int64_t N, int64_t Tn, int64_t K, double tau,
                                       T* y);
// dz (N, T, K) from dy (N, K); dz is overwritten.
template <class T>
void temporal_softmax_pool_backward_cpu(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn,
                                        int64_t K, double tau, T* dz);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)).
template <class T>
void temporal_softmax_pool_forward_cuda(const T* z, int64_t N, int64_t Tn, int64_t K, double tau,
                                        T* y, int device);
template <class T>
void temporal_softmax_pool_backward_cuda(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn,
                                         int64_t K, double tau, T* dz, int device);
#endif

}  // namespace asn::kernels
