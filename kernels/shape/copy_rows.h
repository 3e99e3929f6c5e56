// Copying (or zero-filling) a batch of equally long rows of strided row sets, split into parallel
// chunks by element count (so one huge row is split too). The building blocks of concat and slice:
//   copy_rows_cpu:  dst[r * dst_stride + i] = src[r * src_stride + i]   for r < rows, i < row_len
//   zero_rows_cpu:  dst[r * dst_stride + i] = 0
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "engine/parallel.h"

namespace asn::kernels {

template <class T>
void copy_rows_cpu(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t rows,
                   int64_t row_len) {
  if (rows <= 0 || row_len <= 0) return;
  parallel_for(0, rows * row_len, int64_t{1} << 16, [&](int64_t b, int64_t e) {
    int64_t pos = b;
    while (pos < e) {
      const int64_t r = pos / row_len;
      const int64_t i = pos % row_len;
      const int64_t len = std::min(row_len - i, e - pos);
      std::memcpy(dst + r * dst_stride + i, src + r * src_stride + i,
                  static_cast<size_t>(len) * sizeof(T));
      pos += len;
    }
  });
}

template <class T>
void zero_rows_cpu(T* dst, int64_t dst_stride, int64_t rows, int64_t row_len) {
  if (rows <= 0 || row_len <= 0) return;
  parallel_for(0, rows * row_len, int64_t{1} << 16, [&](int64_t b, int64_t e) {
    int64_t pos = b;
    while (pos < e) {
      const int64_t r = pos / row_len;
      const int64_t i = pos % row_len;
      const int64_t len = std::min(row_len - i, e - pos);
      std::fill(dst + r * dst_stride + i, dst + r * dst_stride + i + len, T(0));
      pos += len;
    }
  });
}

#ifdef ASN_WITH_CUDA
// CUDA versions on device `device` (raw device pointers, launched on asn::cuda::stream(device)).
// One thread per element, or per 16 / 8 / 4 bytes when the pointers, strides and row length allow
// the wider access.
template <class T>
void copy_rows_cuda(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t rows,
                    int64_t row_len, int device);
//   embed_rows_cuda: every dst row (dst_len elements, rows back to back) is `before` zeros, then
//   the src row (src_len elements, rows back to back), then zeros up to dst_len. One pass.
template <class T>
void embed_rows_cuda(const T* src, int64_t src_len, T* dst, int64_t dst_len, int64_t before,
                     int64_t rows, int device);
#endif

}  // namespace asn::kernels
