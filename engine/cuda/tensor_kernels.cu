// Fill and cast kernels behind Tensor::fill and Tensor::to(DType) on CUDA.
#include <cuda_runtime.h>

#include "engine/bf16.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"

namespace asn::cuda {

namespace {

template <class T>
__device__ __forceinline__ T from_f64(double v) {
  return static_cast<T>(v);
}
template <>
__device__ __forceinline__ bf16 from_f64<bf16>(double v) {
  return bf16::from_float(static_cast<float>(v));
}
template <class T>
__device__ __forceinline__ double to_f64(T v) {
  return static_cast<double>(v);
}
template <>
__device__ __forceinline__ double to_f64<bf16>(bf16 v) {
  return static_cast<double>(v.to_float());
}

template <class T>
__global__ void fill_kernel(T* p, int64_t n, double value) {
  const T v = from_f64<T>(value);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    p[i] = v;
}

template <class S, class D>
__global__ void cast_kernel(const S* s, D* d, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    d[i] = from_f64<D>(to_f64<S>(s[i]));
}

template <class F>
void dispatch(DType t, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(bf16{}); return;
    case DType::i32: f(int32_t{}); return;
    case DType::u8: f(uint8_t{}); return;
  }
}

int grid_for(int64_t n) {
  const int64_t blocks = (n + 255) / 256;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

void fill(void* ptr, DType dtype, int64_t numel, double value, int device) {
  set_device(device);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(numel), 256, 0, stream(device)>>>(static_cast<T*>(ptr), numel, value);
  });
  ASN_KERNEL_CHECK("fill");
}

void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t numel, int device) {
  set_device(device);
  dispatch(src_dtype, [&](auto stag) {
    using S = decltype(stag);
    dispatch(dst_dtype, [&](auto dtag) {
      using D = decltype(dtag);
      cast_kernel<S, D><<<grid_for(numel), 256, 0, stream(device)>>>(static_cast<const S*>(src),
                                                                    static_cast<D*>(dst), numel);
    });
  });
  ASN_KERNEL_CHECK("cast");
}

}  // namespace asn::cuda
