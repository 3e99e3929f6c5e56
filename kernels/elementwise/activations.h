// Activations on contiguous tensors of any shape: ReLU, sigmoid, and softmax over the last axis.
//
//   relu:     y = max(x, 0)                       dx = dy * [y > 0]
//   sigmoid:  y = 1 / (1 + exp(-x))  (stable)     dx = dy * y * (1 - y)
//   softmax:  rows of length C (the last axis, e.g. (N, T, H, W, C) -> N*T*H*W rows):
//             y = exp(x - max(x)) / sum(exp(x - max(x)))   dx = y * (dy - sum(dy * y))
//
// Saved for backward: the output y only (for all three; the input is not needed).
// Every element / row is independent; results do not depend on the thread count. Arithmetic lives
// in activations_math.h (shared with CUDA). Softmax row sums are accumulated in double.
//
// CUDA (activations_cuda.cu): relu and sigmoid are 16-byte-vectorised elementwise maps; softmax
// gives each row to one warp (lanes stride over the row; max and the double sums reduced by a fixed
// butterfly), so results depend only on the inputs, never on the launch.
#pragma once

#include <cstdint>

namespace asn::kernels {

template <class T>
void relu_forward_cpu(const T* x, T* y, int64_t n);
template <class T>
void relu_backward_cpu(const T* dy, const T* y, T* dx, int64_t n);

template <class T>
void sigmoid_forward_cpu(const T* x, T* y, int64_t n);
template <class T>
void sigmoid_backward_cpu(const T* dy, const T* y, T* dx, int64_t n);

// rows * cols elements, softmax over each row of `cols` contiguous values (cols >= 1).
template <class T>
void softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols);
template <class T>
void softmax_backward_cpu(const T* dy, const T* y, T* dx, int64_t rows, int64_t cols);

#ifdef ASN_WITH_CUDA
// The same contracts on device pointers, launched on asn::cuda::stream(device).
template <class T>
void relu_forward_cuda(const T* x, T* y, int64_t n, int device);
template <class T>
void relu_backward_cuda(const T* dy, const T* y, T* dx, int64_t n, int device);
template <class T>
void sigmoid_forward_cuda(const T* x, T* y, int64_t n, int device);
template <class T>
void sigmoid_backward_cuda(const T* dy, const T* y, T* dx, int64_t n, int device);
template <class T>
void softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, int device);
template <class T>
void softmax_backward_cuda(const T* dy, const T* y, T* dx, int64_t rows, int64_t cols, int device);
#endif

}  // namespace asn::kernels
