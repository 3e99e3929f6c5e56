// 3-D convolution (cross-correlation, as TensorFlow: no kernel flip), no bias.
//
//   y[n, to, ho, wo, co] = sum_{kt, kh, kw, ci} w[co, kt, kh, kw, ci] *
//                          x[n, to*sT - pT + kt*dT, ho*sH - pH + kh*dH, wo*sW - pW + kw*dW, ci]
//
// with zero padding outside the input (pT, pH, pW are the "before" pads of each axis).
//
// Layouts (contiguous, row-major):
//   input  x  (N, T, H, W, Cin)
//   kernel w  (Cout, kT, kH, kW, Cin)
//   output y  (N, To, Ho, Wo, Cout)
// where for each axis out = (n + before + after - ((k - 1) * d + 1)) / s + 1.
//
// Backward:
//   dx = "transposed conv" of dy with w   (needs w)
//   dw = sum over output positions of dy (outer) the input patch   (needs x)
// so the autograd function saves x and w for backward.
//
// Implementation (conv3d_cpu.cpp): im2col in channels-last order (each patch row is the kernel
// taps in (kt, kh, kw) order, each tap a contiguous run of Cin values, matching w's layout) over
// tiles of output positions, then one single-threaded tile GEMM (conv_gemm.h: AVX-512 micro-kernels
// for f32, OpenBLAS otherwise) per tile:
//   forward:          y_tile (M, Cout)  = col (M, K) * w^T (K, Cout),      K = kT*kH*kW*Cin
//   backward data:    dcol (M, K)       = dy_tile (M, Cout) * w (Cout, K), then col2im add into dx
//   backward weight:  dw (Cout, K)     += dy_tile^T (Cout, M) * col (M, K)
// 1x1x1 stride-1 unpadded convs skip im2col and col2im: x and dx viewed as (N*T*H*W, Cin) ARE the
// column matrices. Strided or padded 1x1x1 convs gather their rows with the same im2col.
//
// Threads: the output positions are split statically into one contiguous chunk per thread; each
// thread walks its chunk in tiles with its own column buffer and runs the tile GEMM on its own
// (no GEMM inside a GEMM: measured faster than big shared tiles with OpenBLAS's threaded GEMM).
// Backward data accumulates each thread's scatter into a private buffer covering only the input
// rows (n, t, h) its chunk touches, then sums the buffers into dx in thread order; backward weight
// sums per-thread partial dw in thread order. Every result is therefore deterministic for a given
// thread count.
//
// Scratch memory (CPU, per call):
//   forward / backward weight: per thread one column tile of at most ~2 MiB (kColTileBytes) or
//     one output row of K elements if that is larger (kept per thread between calls); forward also
//     w^T (K*Cout elements); backward weight also Cout*K elements of partial dw for every thread
//     after the first.
//   backward data: per thread one column tile as above, plus (threads > 1) private accumulation
//     buffers covering the input rows each chunk touches: about |x| * (threads - 1) / threads plus
//     a halo of (kT-1)*dT planes per chunk boundary.
//   The full column matrix (N*To*Ho*Wo, K) is never materialised.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/shape.h"
#include "kernels/common/padding.h"

namespace asn::kernels {

// Sizes along (T, H, W).
using Dims3 = std::array<int64_t, 3>;

struct Conv3dParams {
  int64_t stride[3] = {1, 1, 1};    // (T, H, W)
  int64_t dilation[3] = {1, 1, 1};  // (T, H, W)
  AxisPad pad[3] = {};              // zero padding (before, after) of (T, H, W)

  // TF "SAME" on every axis (the extra pad goes after), also when strided.
  static Conv3dParams same(const Dims3& kernel, const Dims3& stride, const Dims3& dilation,
                           const Dims3& input);
  // The reference's conv2d_fixed_padding, per axis: SAME where the stride is 1; where the stride
  // is > 1, pad (ke-1)/2 before and the rest after with ke = (k-1)*d+1 the dilated kernel extent,
  // then VALID. Does not depend on the input size.
  static Conv3dParams fixed(const Dims3& kernel, const Dims3& stride, const Dims3& dilation,
                            const Dims3& input);
  // No padding.
  static Conv3dParams valid(const Dims3& stride = {1, 1, 1}, const Dims3& dilation = {1, 1, 1});

  // (N, To, Ho, Wo, Cout) for x (N, T, H, W, Cin) and w (Cout, kT, kH, kW, Cin); checks the ranks,
  // the channel agreement, the parameters and that the window fits, throwing errors that start
  // with "conv3d" and name both shapes.
  Shape output_shape(const Shape& x_shape, const Shape& w_shape) const;
  // Strides and dilations >= 1, pads >= 0; throws ValueError naming the offending value.
  void validate() const;
  // "stride (1, 2, 2), dilation (1, 1, 1), pad (0/0, 0/1, 0/1)".
  std::string str() const;
};

// Forward: y (N, To, Ho, Wo, Cout) = conv3d(x, w). y is overwritten.
template <class T>
void conv3d_forward_cpu(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                        const Conv3dParams& p, T* y);

// Gradient wrt the input: dx (N, T, H, W, Cin) from dy (N, To, Ho, Wo, Cout). dx is overwritten.
template <class T>
void conv3d_backward_data_cpu(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                              const Conv3dParams& p, T* dx);

// Gradient wrt the kernel: dw (Cout, kT, kH, kW, Cin) from x and dy. dw is overwritten.
template <class T>
void conv3d_backward_weight_cpu(const T* x, const Shape& x_shape, const T* dy, const Shape& w_shape,
                                const Conv3dParams& p, T* dw);

#ifdef ASN_WITH_CUDA
// The same three computations on CUDA device `device` (raw device pointers, same shapes and
// parameters as the CPU functions, launched on asn::cuda::stream(device); outputs overwritten).
// Implementation (conv3d_cudnn.cpp):
//   - 1x1x1 kernels with stride 1 and no padding are GEMMs over (N*T*H*W, C) rows and go to the
//     cuBLASLt dense kernels (kernels/dense/dense.h): no algorithm search, bitwise reproducible.
//   - everything else goes to cuDNN's convolution (legacy API, Nd descriptors). f32 runs in place
//     on the channels-last tensors (x, y as NDHWC strides, w as a CUDNN_TENSOR_NHWC filter);
//     f64, which cuDNN does not support channels-last, and any f32 problem for which cuDNN offers
//     no channels-last algorithm, run on channels-first copies (conv3d_staging.h).
//   - cuDNN pads symmetrically: per axis it gets min(before, after) (capped below the dilated
//     kernel extent); the rest of the padding (TF SAME's extra pad after, explicit asymmetric
//     pads) is written explicitly into a zero-padded copy of x, and backward data crops the
//     padded gradient back. Backward weight pads x again rather than keeping the copy.
//   - algorithms: cached per (device, direction, dtype, layout, shapes, pads, strides,
//     dilations, deterministic(), allow_tf32()). In deterministic mode the first deterministic
//     algorithm of cuDNN's heuristics (cudnnGet*_v7) whose workspace fits workspace_limit()
//     (the same choice in every process); otherwise the fastest measured by cudnnFind*Ex within
//     that workspace. f32 runs with CUDNN_FMA_MATH unless asn::allow_tf32() (then TF32 tensor
//     cores may be used); f64 with the default math. Throws DeviceError naming conv3d, the
//     shapes and the parameters when cuDNN has no usable algorithm.
template <class T>
void conv3d_forward_cuda(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                         const Conv3dParams& p, T* y, int device);
template <class T>
void conv3d_backward_data_cuda(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                               const Conv3dParams& p, T* dx, int device);
template <class T>
void conv3d_backward_weight_cuda(const T* x, const Shape& x_shape, const T* dy,
                                 const Shape& w_shape, const Conv3dParams& p, T* dw, int device);
#endif

// Multiply-accumulates of one forward pass (N*To*Ho*Wo*Cout*kT*kH*kW*Cin), for benchmarks.
int64_t conv3d_macs(const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p);

}  // namespace asn::kernels
