// Memory-bound elementwise maps for the CUDA kernels of the elementwise, norm and dropout families:
// 16-byte packs (4 floats or 2 doubles per load / store) where every pointer allows it, a
// grid-stride loop over packs, and a scalar tail. Only included by .cu files.
//
//   map1: y[i] = f(x[i])            map2: y[i] = f(a[i], b[i])
//
// f is a functor with a templated __device__ operator(), e.g. the ASN_HOST_DEVICE arithmetic of a
// *_math.h header. y may equal an input (each element is read before it is written by the same
// thread). Each element is computed independently: the result does not depend on the launch.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"

namespace asn::kernels::cuda {

// V consecutive elements moved by one wide access.
template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// Elements per 16-byte pack: 4 floats, 2 doubles.
template <class T>
constexpr int kPackWidth = static_cast<int>(16 / sizeof(T));

// True when p may be accessed with aligned `bytes`-wide loads (null pointers are never accessed).
inline bool is_aligned(const void* p, size_t bytes) {
  return (reinterpret_cast<uintptr_t>(p) % bytes) == 0;
}

template <int V, class T>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  return *reinterpret_cast<const Pack<T, V>*>(p);
}

template <int V, class T>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, V>& v) {
  *reinterpret_cast<Pack<T, V>*>(p) = v;
}

// Packs [0, n / V) through the grid-stride loop, then the n % V tail elements by the first threads.
template <class T, int V, class F>
__global__ void map1_kernel(const T* x, T* y, int64_t n, F f) {
  const int64_t packs = n / V;
  ASN_GRID_STRIDE_LOOP(i, packs) {
    Pack<T, V> p = load_pack<V>(x + i * V);
#pragma unroll
    for (int l = 0; l < V; ++l) p.v[l] = f(p.v[l]);
    store_pack<V>(y + i * V, p);
  }
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - packs * V) y[packs * V + t] = f(x[packs * V + t]);
}

template <class T, int V, class F>
__global__ void map2_kernel(const T* a, const T* b, T* y, int64_t n, F f) {
  const int64_t packs = n / V;
  ASN_GRID_STRIDE_LOOP(i, packs) {
    const Pack<T, V> pa = load_pack<V>(a + i * V);
    const Pack<T, V> pb = load_pack<V>(b + i * V);
    Pack<T, V> p;
#pragma unroll
    for (int l = 0; l < V; ++l) p.v[l] = f(pa.v[l], pb.v[l]);
    store_pack<V>(y + i * V, p);
  }
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - packs * V) y[packs * V + t] = f(a[packs * V + t], b[packs * V + t]);
}

// Launches map1 on device's main stream (wide accesses when x and y are 16-byte aligned).
template <class T, class F>
void launch_map1(const char* op, const T* x, T* y, int64_t n, F f, int device) {
  if (n == 0) return;
  asn::cuda::set_device(device);
  constexpr int V = kPackWidth<T>;
  cudaStream_t s = asn::cuda::stream(device);
  if (is_aligned(x, 16) && is_aligned(y, 16)) {
    map1_kernel<T, V><<<grid_1d(n / V), kBlock, 0, s>>>(x, y, n, f);
  } else {
    map1_kernel<T, 1><<<grid_1d(n), kBlock, 0, s>>>(x, y, n, f);
  }
  ASN_KERNEL_CHECK(op);
}

template <class T, class F>
void launch_map2(const char* op, const T* a, const T* b, T* y, int64_t n, F f, int device) {
  if (n == 0) return;
  asn::cuda::set_device(device);
  constexpr int V = kPackWidth<T>;
  cudaStream_t s = asn::cuda::stream(device);
  if (is_aligned(a, 16) && is_aligned(b, 16) && is_aligned(y, 16)) {
    map2_kernel<T, V><<<grid_1d(n / V), kBlock, 0, s>>>(a, b, y, n, f);
  } else {
    map2_kernel<T, 1><<<grid_1d(n), kBlock, 0, s>>>(a, b, y, n, f);
  }
  ASN_KERNEL_CHECK(op);
}

}  // namespace asn::kernels::cuda
