// CUDA row copies behind concat and slice (see copy_rows.h). The kernels move opaque units of 16,
// 8 or 4 bytes: the launcher picks the widest unit that divides both addresses, both strides and
// the row length in bytes, so typical channel-sized rows move as 16-byte vector loads and stores.
// One thread per unit, grid-stride, 32-bit index arithmetic when the unit count allows it.
#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/shape/copy_rows.h"

namespace asn::kernels {

namespace {

// dst[r * dst_stride + i] = src[r * src_stride + i] for r < rows, i < row_len (all in units).
template <class U, class I>
__global__ void copy_rows_kernel(const U* __restrict__ src, int64_t src_stride, U* __restrict__ dst,
                                 int64_t dst_stride, I row_len, I total) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I u = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       u < total; u += step) {
    const I r = u / row_len;
    const I i = u - r * row_len;
    dst[static_cast<int64_t>(r) * dst_stride + i] = src[static_cast<int64_t>(r) * src_stride + i];
  }
}

// dst row r (dst_len units) = [before zeros | src row r (src_len units) | zeros].
template <class U, class I>
__global__ void embed_rows_kernel(const U* __restrict__ src, I src_len, U* __restrict__ dst,
                                  I dst_len, I before, I total) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I u = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       u < total; u += step) {
    const I r = u / dst_len;
    const I k = u - r * dst_len - before;  // position inside the src row when 0 <= k < src_len
    dst[u] = (k >= 0 && k < src_len) ? src[static_cast<int64_t>(r) * src_len + k] : U{};
  }
}

// Largest of 16, 8, 4 dividing every value (all are multiples of the element size, >= 4).
int unit_bytes(std::initializer_list<uint64_t> values) {
  for (int u : {16, 8}) {
    bool ok = true;
    for (uint64_t v : values) ok = ok && v % static_cast<uint64_t>(u) == 0;
    if (ok) return u;
  }
  return 4;
}

// Unit counts below 2^30: an index plus the grid stride (< 2^28) stays inside int32.
bool small(int64_t units) { return units < (int64_t{1} << 30); }

template <class U>
void copy_units(const void* src, int64_t src_stride, void* dst, int64_t dst_stride, int64_t rows,
                int64_t row_len, cudaStream_t s) {
  const int64_t total = rows * row_len;
  const U* su = static_cast<const U*>(src);
  U* du = static_cast<U*>(dst);
  if (small(total)) {
    copy_rows_kernel<U, int32_t><<<cuda::grid_1d(total), cuda::kBlock, 0, s>>>(
        su, src_stride, du, dst_stride, static_cast<int32_t>(row_len), static_cast<int32_t>(total));
  } else {
    copy_rows_kernel<U, int64_t><<<cuda::grid_1d(total), cuda::kBlock, 0, s>>>(
        su, src_stride, du, dst_stride, row_len, total);
  }
}

template <class U>
void embed_units(const void* src, int64_t src_len, void* dst, int64_t dst_len, int64_t before,
                 int64_t rows, cudaStream_t s) {
  const int64_t total = rows * dst_len;
  const U* su = static_cast<const U*>(src);
  U* du = static_cast<U*>(dst);
  if (small(total)) {
    embed_rows_kernel<U, int32_t><<<cuda::grid_1d(total), cuda::kBlock, 0, s>>>(
        su, static_cast<int32_t>(src_len), du, static_cast<int32_t>(dst_len),
        static_cast<int32_t>(before), static_cast<int32_t>(total));
  } else {
    embed_rows_kernel<U, int64_t>
        <<<cuda::grid_1d(total), cuda::kBlock, 0, s>>>(su, src_len, du, dst_len, before, total);
  }
}

uint64_t address(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

template <class T>
void copy_rows_cuda(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t rows,
                    int64_t row_len, int device) {
  if (rows <= 0 || row_len <= 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const uint64_t e = sizeof(T);
  const int u =
      unit_bytes({address(src), address(dst), static_cast<uint64_t>(src_stride) * e,
                  static_cast<uint64_t>(dst_stride) * e, static_cast<uint64_t>(row_len) * e});
  const int64_t k = u / static_cast<int64_t>(e) > 0 ? u / static_cast<int64_t>(e) : 1;
  // Strides and lengths in units: k elements per unit (a unit never straddles two rows).
  if (u == 16) {
    copy_units<uint4>(src, src_stride / k, dst, dst_stride / k, rows, row_len / k, s);
  } else if (u == 8) {
    copy_units<uint2>(src, src_stride / k, dst, dst_stride / k, rows, row_len / k, s);
  } else {
    copy_units<uint32_t>(src, src_stride / k, dst, dst_stride / k, rows, row_len / k, s);
  }
  ASN_KERNEL_CHECK("copy_rows");
}

template <class T>
void embed_rows_cuda(const T* src, int64_t src_len, T* dst, int64_t dst_len, int64_t before,
                     int64_t rows, int device) {
  if (rows <= 0 || dst_len <= 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const uint64_t e = sizeof(T);
  const int u = unit_bytes({address(src), address(dst), static_cast<uint64_t>(src_len) * e,
                            static_cast<uint64_t>(dst_len) * e, static_cast<uint64_t>(before) * e});
  const int64_t k = u / static_cast<int64_t>(e) > 0 ? u / static_cast<int64_t>(e) : 1;
  if (u == 16) {
    embed_units<uint4>(src, src_len / k, dst, dst_len / k, before / k, rows, s);
  } else if (u == 8) {
    embed_units<uint2>(src, src_len / k, dst, dst_len / k, before / k, rows, s);
  } else {
    embed_units<uint32_t>(src, src_len / k, dst, dst_len / k, before / k, rows, s);
  }
  ASN_KERNEL_CHECK("embed_rows");
}

template void copy_rows_cuda<float>(const float*, int64_t, float*, int64_t, int64_t, int64_t, int);
template void copy_rows_cuda<double>(const double*, int64_t, double*, int64_t, int64_t, int64_t,
                                     int);
template void embed_rows_cuda<float>(const float*, int64_t, float*, int64_t, int64_t, int64_t, int);
template void embed_rows_cuda<double>(const double*, int64_t, double*, int64_t, int64_t, int64_t,
                                      int);

}  // namespace asn::kernels
