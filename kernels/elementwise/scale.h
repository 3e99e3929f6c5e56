// Scaling by a constant or by a one-element tensor, and the sum of several same-shape tensors.
//
//   scale:     y = alpha * x   (alpha a host constant)      dx = alpha * dy
//   scale_by:  y = s * x       (s a one-element tensor)      dx = s * dy,  ds = sum(dy * x)
//   add_n:     y = x_0 + x_1 + ... + x_{k-1}                 dx_i = dy
//
// Saved for backward: scale nothing; scale_by x and the value of s read at forward time; add_n
// nothing.
// scale_cpu serves scale forward and backward and scale_by's forward and dx (with alpha = s read on
// the host). dot_cpu (ds) sums in double, one partial per chunk of a static partition combined in
// chunk order: deterministic for a given thread count. add_n adds in input order in type T.
// Arithmetic in scale_math.h (shared with CUDA).
//
// CUDA (scale_cuda.cu): 16-byte-vectorised maps; scale_by reads s on the device (no host sync), so
// the autograd function keeps a device copy of s for backward. dot_cuda writes one double partial
// per block (a fixed number of blocks for a given n), and a single block adds them with a fixed
// tree: reproducible bit for bit, no atomics. add_n_cuda adds in input order, like the CPU.
#pragma once

#include <cstdint>

namespace asn::kernels {

// y[i] = alpha * x[i] (y may equal x).
template <class T>
void scale_cpu(const T* x, T alpha, T* y, int64_t n);

// sum_i a[i] * b[i], accumulated in double.
template <class T>
double dot_cpu(const T* a, const T* b, int64_t n);

// y[i] = xs[0][i] + ... + xs[count - 1][i], added in that order (count >= 1).
template <class T>
void add_n_cpu(const T* const* xs, int count, T* y, int64_t n);

#ifdef ASN_WITH_CUDA
// Device pointers, launched on asn::cuda::stream(device).
// y[i] = alpha * x[i] (y may equal x).
template <class T>
void scale_cuda(const T* x, T alpha, T* y, int64_t n, int device);
// y[i] = s[0] * x[i] where s points to one element in device memory (y may equal x).
template <class T>
void scale_by_cuda(const T* x, const T* s, T* y, int64_t n, int device);
// out[0] = sum_i a[i] * b[i] accumulated in double, rounded to T; out is in device memory.
template <class T>
void dot_cuda(const T* a, const T* b, int64_t n, T* out, int device);
// xs: a host array of `count` device pointers (count >= 1); y may not alias any of them.
template <class T>
void add_n_cuda(const T* const* xs, int count, T* y, int64_t n, int device);
#endif

}  // namespace asn::kernels
