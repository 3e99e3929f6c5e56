// Small helpers shared by the CUDA kernels: grid sizing, grid-stride loops, block reductions.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace asn::kernels::cuda {

constexpr int kBlock = 256;

inline int grid_1d(int64_t n, int block = kBlock) {
  const int64_t g = (n + block - 1) / block;
  return static_cast<int>(g < 1 ? 1 : (g > 65535 * 8 ? 65535 * 8 : g));
}

#define ASN_GRID_STRIDE_LOOP(i, n)                                                    \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Sum over a block (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
// Fixed reduction tree: deterministic.
template <class T>
__device__ T block_reduce_sum(T v) {
  __shared__ T warp_sums[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  const int nwarps = (blockDim.x + 31) >> 5;
  v = threadIdx.x < nwarps ? warp_sums[lane] : T(0);
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  __syncthreads();
  return v;
}

}  // namespace asn::kernels::cuda
