// 3-D average pooling on channels-last tensors: x (N, T, H, W, C) -> y (N, To, Ho, Wo, C).
//
//   y[n, o, c] = (1 / count(o)) * sum over the window of output o of x[n, i, c]
//
// TF semantics: padded positions are left out of both the sum and the divisor, so count(o) is the
// number of real input positions in the window (a SAME border window of a 3x3 pool that hangs one
// row and one column into the padding divides by 4, not 9). Sums accumulate in double.
// Saved for backward: nothing but the geometry (the gradient does not depend on x).
// Backward spreads each output gradient evenly over its window's real positions:
//   gx[n, i, c] = sum over outputs o whose window contains i of gy[n, o, c] / count(o)
// in gather form (each input element written once, outputs added in scan order): deterministic.
#pragma once

#include "kernels/pool/pool3d.h"

namespace asn::kernels {

template <class T>
void avg_pool3d_forward_cpu(const T* x, const Pool3dGeometry& g, T* y);

// gy: (N, To, Ho, Wo, C); gx: (N, T, H, W, C), fully written.
template <class T>
void avg_pool3d_backward_cpu(const T* gy, const Pool3dGeometry& g, T* gx);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)):
// one thread per output (forward) or input (backward) element, sums in double in the CPU's order.
template <class T>
void avg_pool3d_forward_cuda(const T* x, const Pool3dGeometry& g, T* y, int device);
template <class T>
void avg_pool3d_backward_cuda(const T* gy, const Pool3dGeometry& g, T* gx, int device);
#endif

}  // namespace asn::kernels
