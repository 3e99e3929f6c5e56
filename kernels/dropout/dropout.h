// Dropout with Keras semantics on a contiguous tensor of any shape (typically (N, C) in a head):
//   y = x * mask / (1 - rate),  mask_k = [philox_uniform(seed, offset, k) >= rate]
// where rate is the fraction dropped, 0 <= rate < 1, and k is the element's flat row-major index.
// Backward is the same map applied to dy: dx = dy * mask / (1 - rate).
//
// Saved for backward: seed and offset only. The mask is a pure function of (seed, offset, k), so
// backward recomputes it instead of storing it, and CUDA reproduces the CPU mask bit for bit (the
// arithmetic is in dropout_math.h). Per-element, so independent of the thread count.
//
// CUDA (dropout_cuda.cu): one thread per Philox block of four elements (one Philox call, one
// 4-wide load and store where aligned), the same keep decision and scaling as the CPU: for a given
// (seed, offset, rate) the outputs are bitwise equal on both backends.
#pragma once

#include <cstdint>

namespace asn::kernels {

struct DropoutParams {
  uint64_t seed = 0;
  uint64_t offset = 0;
  double rate = 0;  // fraction dropped, in [0, 1)
};

// y[k] = x[k] * mask_k * scale, n elements. Also the backward (pass dy as x, dx as y).
template <class T>
void dropout_apply_cpu(const DropoutParams& p, const T* x, T* y, int64_t n);

#ifdef ASN_WITH_CUDA
// The same on device pointers, launched on asn::cuda::stream(device) (y may equal x).
template <class T>
void dropout_apply_cuda(const DropoutParams& p, const T* x, T* y, int64_t n, int device);
#endif

}  // namespace asn::kernels
