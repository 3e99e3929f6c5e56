// Pieces shared by the CUDA reductions (sum / mean, min / max) and by the other CUDA kernels that
// reduce (dense's bias gradient, the losses' row sums):
//   warp_sum:     a fixed shuffle tree over the 32 lanes of a warp (deterministic); lane 0 holds
//                 the result.
//   DevicePlan:   a ReducePlan (reduce_plan.h) flattened into fixed arrays so a kernel can take it
//                 by value and compute run offsets on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/error.h"
#include "engine/shape.h"
#include "kernels/reduce/reduce_plan.h"

namespace asn::kernels::cuda {

constexpr int kWarp = 32;

// Sum over the lanes of a full warp; valid in lane 0. Fixed tree: deterministic.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// The same tree, result broadcast to every lane.
template <class T>
__device__ __forceinline__ T warp_sum_all(T v) {
  v = warp_sum(v);
  return __shfl_sync(0xffffffffu, v, 0);
}

// Maximum over the lanes of a full warp, broadcast to every lane (exact: order-independent for
// non-NaN values).
template <class T>
__device__ __forceinline__ T warp_max_all(T v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) {
    const T u = __shfl_down_sync(0xffffffffu, v, o);
    v = u > v ? u : v;
  }
  return __shfl_sync(0xffffffffu, v, 0);
}

// A ReducePlan with its block lists in fixed arrays (at most Shape::kMaxRank blocks each).
struct DevicePlan {
  int64_t outer_sizes[Shape::kMaxRank], outer_strides[Shape::kMaxRank];
  int64_t row_sizes[Shape::kMaxRank], row_strides[Shape::kMaxRank];
  int n_outer = 0, n_rows = 0;
  int64_t inner = 1;
  int64_t outer = 1;
  int64_t rows = 1;

  // Mixed-radix decode of `index` (as ReducePlan::digits_offset).
  __host__ __device__ static int64_t digits_offset(int64_t index, const int64_t* sizes,
                                                   const int64_t* strides, int n) {
    int64_t off = 0;
    for (int d = n - 1; d >= 1; --d) {
      off += (index % sizes[d]) * strides[d];
      index /= sizes[d];
    }
    return n == 0 ? off : off + index * strides[0];
  }
  __host__ __device__ int64_t outer_offset(int64_t o) const {
    return digits_offset(o, outer_sizes, outer_strides, n_outer);
  }
  __host__ __device__ int64_t row_offset(int64_t r) const {
    return digits_offset(r, row_sizes, row_strides, n_rows);
  }
};

inline DevicePlan to_device_plan(const ReducePlan& p) {
  ASN_CHECK_SHAPE(p.outer_sizes.size() <= static_cast<size_t>(Shape::kMaxRank) &&
                      p.row_sizes.size() <= static_cast<size_t>(Shape::kMaxRank),
                  "reduce: plan with {} kept and {} reduced blocks exceeds rank {}",
                  p.outer_sizes.size(), p.row_sizes.size(), Shape::kMaxRank);
  DevicePlan d;
  d.n_outer = static_cast<int>(p.outer_sizes.size());
  d.n_rows = static_cast<int>(p.row_sizes.size());
  for (int i = 0; i < Shape::kMaxRank; ++i) {
    const size_t u = static_cast<size_t>(i);
    d.outer_sizes[i] = i < d.n_outer ? p.outer_sizes[u] : 1;
    d.outer_strides[i] = i < d.n_outer ? p.outer_strides[u] : 0;
    d.row_sizes[i] = i < d.n_rows ? p.row_sizes[u] : 1;
    d.row_strides[i] = i < d.n_rows ? p.row_strides[u] : 0;
  }
  d.inner = p.inner;
  d.outer = p.outer;
  d.rows = p.rows;
  return d;
}

}  // namespace asn::kernels::cuda
