// Concatenation along one axis of contiguous tensors that agree on every other axis.
//
// Each input k is viewed as (outer, len_k, inner) around the concatenation axis; the output is
// (outer, sum_k len_k, inner) and row o of it is input 0's row o, then input 1's, ...:
//   y[o, off_k + j, i] = x_k[o, j, i]      off_k = len_0 + ... + len_{k-1}
// Saved for backward: the lengths only.
// Backward: input k's gradient is the slice [off_k, off_k + len_k) of gy along the axis
// (slice_forward_cpu in slice.h). Pure copies: exact and deterministic.
#pragma once

#include <cstdint>
#include <vector>

namespace asn::kernels {

// xs[k]: (outer, lens[k], inner); y: (outer, sum(lens), inner).
template <class T>
void concat_forward_cpu(const std::vector<const T*>& xs, const std::vector<int64_t>& lens,
                        int64_t outer, int64_t inner, T* y);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, one strided row copy per input on
// asn::cuda::stream(device)).
template <class T>
void concat_forward_cuda(const std::vector<const T*>& xs, const std::vector<int64_t>& lens,
                         int64_t outer, int64_t inner, T* y, int device);
#endif

}  // namespace asn::kernels
