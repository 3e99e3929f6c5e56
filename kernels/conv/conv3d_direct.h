// Direct (nested-loop) 3-D convolution on CUDA: one thread per output element, no workspace, no
// library. It runs the f64 convolutions (used by CUDA-vs-CPU tests and gradient checks) and is the
// f32 last resort when cuDNN offers no usable plan at all for a shape (neither API, neither
// layout; see conv3d_cudnn.cpp). Correct by construction, deterministic (gathers, no atomics),
// slow: it is not the path the networks train on (backward weight runs one thread per kernel
// element over every output position: milliseconds at AssembleNet sizes).
//   forward:         y[n,o,co]  = sum_{k,ci} x[n, o*s - before + k*d, ci] w[co, k, ci]
//   backward data:   dx[n,i,ci] = sum_{k,co} dy[n, (i + before - k*d)/s, co] w[co, k, ci]
//                    (taps where the division is exact only)
//   backward weight: dw[co,k,ci] = sum_{n,o} x[n, o*s - before + k*d, ci] dy[n, o, co]
// Layouts as conv3d.h: x (N, T, H, W, Cin), w (Cout, kT, kH, kW, Cin), y (N, To, Ho, Wo, Cout).
#pragma once

#ifdef ASN_WITH_CUDA

#include "engine/shape.h"
#include "kernels/conv/conv3d.h"

namespace asn::kernels {

template <class T>
void conv3d_direct_forward_cuda(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                                const Conv3dParams& p, T* y, int device);
template <class T>
void conv3d_direct_backward_data_cuda(const T* dy, const Shape& x_shape, const T* w,
                                      const Shape& w_shape, const Conv3dParams& p, T* dx,
                                      int device);
template <class T>
void conv3d_direct_backward_weight_cuda(const T* x, const Shape& x_shape, const T* dy,
                                        const Shape& w_shape, const Conv3dParams& p, T* dw,
                                        int device);

}  // namespace asn::kernels

#endif  // ASN_WITH_CUDA
