// Slice along one axis (a copy): x viewed as (outer, len, inner) around the axis,
//   y[o, j, i] = x[o, start + j, i]      0 <= j < count, start + count <= len
// Saved for backward: the geometry only.
// Backward scatters into zeros: gx[o, start + j, i] = gy[o, j, i], every other element 0.
// Pure copies: exact and deterministic.
#pragma once

#include <cstdint>

namespace asn::kernels {

// x: (outer, len, inner); y: (outer, count, inner).
template <class T>
void slice_forward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, int64_t start,
                       int64_t count, T* y);

// gy: (outer, count, inner); gx: (outer, len, inner), fully written.
template <class T>
void slice_backward_cpu(const T* gy, int64_t outer, int64_t len, int64_t inner, int64_t start,
                        int64_t count, T* gx);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)).
// Backward writes every element of gx once (zeros and the slice in one pass).
template <class T>
void slice_forward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, int64_t start,
                        int64_t count, T* y, int device);
template <class T>
void slice_backward_cuda(const T* gy, int64_t outer, int64_t len, int64_t inner, int64_t start,
                         int64_t count, T* gx, int device);
#endif

}  // namespace asn::kernels
