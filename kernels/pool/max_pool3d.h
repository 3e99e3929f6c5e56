// 3-D max pooling on channels-last tensors: x (N, T, H, W, C) -> y (N, To, Ho, Wo, C).
//
//   y[n, o, c] = max over the window of output o (pool3d.h) of x[n, i, c]
//
// Padding never wins: only real input positions are compared (as if the padding were -inf).
// Ties: the FIRST maximal element in window scan order (t, then h, then w, each ascending) wins:
// a later element replaces the current best only when strictly greater. A NaN in a window wins
// over numbers (the first NaN in scan order), so NaN propagates.
//
// Forward also writes, when asked, argmax (N, To, Ho, Wo, C) int32: the winner's position inside
// its sample, t * H * W + h * W + w (so T * H * W must fit in int32).
// Saved for backward: argmax only (the input and output are not kept).
// Backward routes each output gradient to its argmax:
//   gx[n, i, c] = sum over outputs o whose window contains i and argmax[n, o, c] == i of gy[n, o,
//   c]
// computed in gather form (one pass over the input, each element written once, outputs added in
// scan order): no atomics, deterministic and independent of the thread count.
#pragma once

#include <cstdint>

#include "kernels/pool/pool3d.h"

namespace asn::kernels {

// y: (N, To, Ho, Wo, C); argmax: same size, or nullptr when no backward will follow.
template <class T>
void max_pool3d_forward_cpu(const T* x, const Pool3dGeometry& g, T* y, int32_t* argmax);

// gy, argmax: (N, To, Ho, Wo, C); gx: (N, T, H, W, C), fully written.
template <class T>
void max_pool3d_backward_cpu(const T* gy, const int32_t* argmax, const Pool3dGeometry& g, T* gx);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)):
// one thread per output element (forward) or input element (backward, gather form, outputs added
// in scan order as on the CPU), so the results are bitwise those of the CPU.
template <class T>
void max_pool3d_forward_cuda(const T* x, const Pool3dGeometry& g, T* y, int32_t* argmax,
                             int device);
template <class T>
void max_pool3d_backward_cuda(const T* gy, const int32_t* argmax, const Pool3dGeometry& g, T* gx,
                              int device);
#endif

}  // namespace asn::kernels
