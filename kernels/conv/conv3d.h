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
#include <vector>

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
// Implementation (conv3d_cudnn.cpp, conv3d_cudnn_plan.h):
//   - 1x1x1 kernels with stride 1 and no padding are GEMMs over (N*T*H*W, C) rows and go to the
//     cuBLASLt dense kernels (kernels/dense/dense.h): no algorithm search, bitwise reproducible.
//   - f64 (tests and gradient checks only) runs the direct kernels of conv3d_direct.h.
//   - f32 runs a plan chosen on the problem's first call and cached per (device, direction,
//     shapes, pads, strides, dilations, deterministic(), allow_tf32(), conv3d_cuda_path()):
//     cuDNN's graph (backend) API or its legacy API, on our channels-last memory in place or on
//     channels-first copies. Not deterministic: the candidates (up to 6 graph engine
//     configurations and cudnnFind*Ex's legacy pick per layout) are timed on the real operands,
//     staging copies included, and the fastest is kept. Deterministic: the first deterministic
//     legacy heuristic result (channels-last, then channels-first), the same in every process.
//     No candidate at all: the direct kernels (warned once per problem).
//   - cuDNN pads symmetrically: per axis it gets min(before, after) (capped below the dilated
//     kernel extent); the rest (TF SAME's extra pad after, explicit asymmetric pads) is written
//     explicitly into a zero-padded copy of x, and backward data crops the padded gradient back.
//     Operands not 16-byte aligned are copied. Workspace: one growing buffer per device, at most
//     asn::cuda::workspace_limit().
//   - f32 never uses tensor cores unless asn::allow_tf32(), and never algorithms that
//     down-convert. Throws DeviceError naming conv3d, the shapes and the parameters when the chosen
//     plan fails.
template <class T>
void conv3d_forward_cuda(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                         const Conv3dParams& p, T* y, int device);
template <class T>
void conv3d_backward_data_cuda(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                               const Conv3dParams& p, T* dx, int device);
template <class T>
void conv3d_backward_weight_cuda(const T* x, const Shape& x_shape, const T* dy,
                                 const Shape& w_shape, const Conv3dParams& p, T* dw, int device);

// Which implementation the f32 CUDA convolutions (not the pointwise ones) may use: automatic (the
// fastest measured, see above) or only one path, for tests and diagnosis. A forced path with no
// usable plan for a problem falls back to the direct kernels. The start-up value comes from
// ASN_CONV_PATH: auto, graph, graph_cf, legacy, legacy_cf or direct.
enum class Conv3dCudaPath {
  automatic,
  graph_channels_last,
  graph_channels_first,
  legacy_channels_last,
  legacy_channels_first,
  direct,
};
void set_conv3d_cuda_path(Conv3dCudaPath path);
Conv3dCudaPath conv3d_cuda_path();

// One line per plan chosen so far in this process, in order: the problem, the chosen plan, the
// candidates' times and why other paths had none. The same lines go to the debug log, and to
// stderr when ASN_CONV_LOG=1.
std::vector<std::string> conv3d_cuda_plans();
#endif

// Multiply-accumulates of one forward pass (N*To*Ho*Wo*Cout*kT*kH*kW*Cin), for benchmarks.
int64_t conv3d_macs(const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p);

}  // namespace asn::kernels
