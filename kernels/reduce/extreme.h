// Min / max reductions, over the whole tensor or along one axis, with TF's gradient.
//
// Whole tensor: y = max_i x[i] (or min), one value.
// One axis: x viewed as (outer, len, inner) with the reduced axis in the middle,
//   y[o, i] = max_j x[o, j, i]          (y is (outer, inner))
//
// NaN propagates: a NaN anywhere in a reduction makes its result NaN.
// Gradient (exactly TF's _MinOrMaxGrad): the incoming gradient is divided EQUALLY among all the
// elements equal to the extreme value,
//   gx[i] = (x[i] == y) ? gy / count(x == y) : 0
// so with two tied maxima each receives gy / 2 (not "first index wins" as in max pooling). When
// the result is NaN no element compares equal and the gradient is zero.
// Saved for backward: x and y.
// Determinism: extremes and tie counts are exact, so the results do not depend on the partition.
#pragma once

#include <cstdint>

namespace asn::kernels {

enum class Extreme { min, max };

// y: one value; n >= 1.
template <class T>
void extreme_all_forward_cpu(const T* x, int64_t n, Extreme kind, T* y);
// gy, y: one value; gx: n values.
template <class T>
void extreme_all_backward_cpu(const T* x, int64_t n, const T* y, const T* gy, T* gx);

// x (outer, len, inner) -> y (outer, inner); len >= 1.
template <class T>
void extreme_axis_forward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, Extreme kind,
                              T* y);
// gy, y: (outer, inner); gx: (outer, len, inner).
template <class T>
void extreme_axis_backward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, const T* y,
                               const T* gy, T* gx);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)).
// Extremes and tie counts are exact, so the results equal the CPU's (up to the sign of a zero
// extreme and NaN payloads). Partial extremes and tie counts go through scratch buffers combined
// by a second kernel: no atomics. The whole-tensor backward reads y and gy on the device (no host
// synchronisation).
template <class T>
void extreme_all_forward_cuda(const T* x, int64_t n, Extreme kind, T* y, int device);
template <class T>
void extreme_all_backward_cuda(const T* x, int64_t n, const T* y, const T* gy, T* gx, int device);
template <class T>
void extreme_axis_forward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, Extreme kind,
                               T* y, int device);
template <class T>
void extreme_axis_backward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, const T* y,
                                const T* gy, T* gx, int device);
#endif

}  // namespace asn::kernels
