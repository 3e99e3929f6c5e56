// CUDA sum / mean over axes (see sum.h and reduce_plan.h). Every sum accumulates in double.
//
// Forward, innermost run reduced (each output one value, its reduced sequence = `rows` runs of
// `inner` contiguous elements): one warp per (output, piece of kWarpPiece sequence elements); the
// lanes stride through the piece (coalesced) and a shuffle tree adds them up.
// Forward, innermost run kept (each output `inner` values): one thread per (output, piece of
// kRowPiece runs, inner position); neighbouring threads read neighbouring elements of a run.
// With one piece per output the kernel writes y; otherwise it writes the piece sums to a scratch
// buffer and sum_pieces_kernel adds them in piece order (a warp per output value). Pieces depend
// only on the shape: the result is bitwise reproducible, no atomics.
// Backward: one thread per input element writes scale * gy of its output.
#include <algorithm>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/reduce/reduce_cuda.cuh"
#include "kernels/reduce/sum.h"

namespace asn::kernels {

namespace {

using cuda::DevicePlan;
using cuda::kWarp;

constexpr int64_t kWarpPiece = 4096;  // sequence elements per warp (innermost run reduced)
constexpr int64_t kRowPiece = 64;     // runs per thread (innermost run kept)

// Grid for `warps` warp work items (grid-stride beyond the cap).
int warp_grid(int64_t warps) { return cuda::grid_1d(warps * kWarp); }

template <class T>
__global__ void sum_reduced_inner_kernel(const T* __restrict__ x, const DevicePlan p, int64_t count,
                                         int64_t pieces, double scale, T* __restrict__ y,
                                         double* __restrict__ partial) {
  const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
  const int64_t items = p.outer * pieces;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  // The loop bound is the same for every lane of a warp, so the shuffles below see full warps.
  for (int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       item < items; item += warp_stride) {
    const int64_t o = item / pieces;
    const int64_t a = (item % pieces) * kWarpPiece;
    const int64_t b = a + kWarpPiece < count ? a + kWarpPiece : count;
    const T* base = x + p.outer_offset(o);
    double acc = 0;
    if (a >= b) {
      // An empty reduction (an axis of size 0): the sum is 0.
    } else if (p.inner >= kWarp || p.rows == 1) {
      // Run by run: the lanes read consecutive elements of a run.
      int64_t r = a / p.inner;
      int64_t i0 = a % p.inner;
      for (int64_t pos = a; pos < b; ++r, i0 = 0) {
        const int64_t len = p.inner - i0 < b - pos ? p.inner - i0 : b - pos;
        const T* run = base + p.row_offset(r) + i0;
        for (int64_t k = lane; k < len; k += kWarp) acc += static_cast<double>(run[k]);
        pos += len;
      }
    } else {
      // Short runs: each lane locates its own elements.
      for (int64_t pos = a + lane; pos < b; pos += kWarp) {
        acc += static_cast<double>(base[p.row_offset(pos / p.inner) + pos % p.inner]);
      }
    }
    acc = cuda::warp_sum(acc);
    if (lane == 0) {
      if (pieces == 1) {
        y[o] = static_cast<T>(acc * scale);
      } else {
        partial[item] = acc;
      }
    }
  }
}

template <class T>
__global__ void sum_kept_inner_kernel(const T* __restrict__ x, const DevicePlan p, int64_t pieces,
                                      double scale, T* __restrict__ y,
                                      double* __restrict__ partial) {
  const int64_t total = p.outer * pieces * p.inner;
  ASN_GRID_STRIDE_LOOP(t, total) {
    const int64_t i = t % p.inner;
    const int64_t rest = t / p.inner;
    const int64_t piece = rest % pieces;
    const int64_t o = rest / pieces;
    const int64_t r0 = piece * kRowPiece;
    const int64_t r1 = r0 + kRowPiece < p.rows ? r0 + kRowPiece : p.rows;
    const T* base = x + p.outer_offset(o) + i;
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r) acc += static_cast<double>(base[p.row_offset(r)]);
    const int64_t v = o * p.inner + i;
    if (pieces == 1) {
      y[v] = static_cast<T>(acc * scale);
    } else {
      partial[v * pieces + piece] = acc;
    }
  }
}

// y[v] = scale * sum of partial[v * pieces + k] over k: one warp per output value.
template <class T>
__global__ void sum_pieces_kernel(const double* __restrict__ partial, int64_t values,
                                  int64_t pieces, double scale, T* __restrict__ y) {
  const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  for (int64_t v = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       v < values; v += warp_stride) {
    const double* pv = partial + v * pieces;
    double acc = 0;
    for (int64_t k = lane; k < pieces; k += kWarp) acc += pv[k];
    acc = cuda::warp_sum(acc);
    if (lane == 0) y[v] = static_cast<T>(acc * scale);
  }
}

template <class T>
__global__ void sum_backward_kernel(const T* __restrict__ gy, const DevicePlan p,
                                    bool inner_reduced, double scale, T* __restrict__ gx,
                                    int64_t total) {
  ASN_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % p.inner;
    const int64_t run = e / p.inner;
    const int64_t r = run % p.rows;
    const int64_t o = run / p.rows;
    const T g = inner_reduced ? gy[o] : gy[o * p.inner + i];
    gx[p.outer_offset(o) + p.row_offset(r) + i] = static_cast<T>(static_cast<double>(g) * scale);
  }
}

}  // namespace

template <class T>
void sum_forward_cuda(const T* x, const ReducePlan& plan, double scale, T* y, int device) {
  if (plan.out_numel == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const DevicePlan p = cuda::to_device_plan(plan);
  const int64_t units = plan.inner_reduced ? plan.reduce_count : plan.rows;
  const int64_t piece = plan.inner_reduced ? kWarpPiece : kRowPiece;
  const int64_t pieces = std::max<int64_t>(1, (units + piece - 1) / piece);
  Tensor partial;  // scratch, alive until the kernels below are queued (stream-ordered reuse)
  double* part = nullptr;
  if (pieces > 1) {
    partial = Tensor::empty(Shape{plan.out_numel * pieces}, DType::f64, Device::cuda(device));
    part = partial.data<double>();
  }
  if (plan.inner_reduced) {
    sum_reduced_inner_kernel<T><<<warp_grid(plan.outer * pieces), cuda::kBlock, 0, s>>>(
        x, p, plan.reduce_count, pieces, scale, y, part);
  } else {
    sum_kept_inner_kernel<T>
        <<<cuda::grid_1d(plan.outer * pieces * plan.inner), cuda::kBlock, 0, s>>>(x, p, pieces,
                                                                                  scale, y, part);
  }
  ASN_KERNEL_CHECK("sum");
  if (pieces > 1) {
    sum_pieces_kernel<T>
        <<<warp_grid(plan.out_numel), cuda::kBlock, 0, s>>>(part, plan.out_numel, pieces, scale, y);
    ASN_KERNEL_CHECK("sum");
  }
}

template <class T>
void sum_backward_cuda(const T* gy, const ReducePlan& plan, double scale, T* gx, int device) {
  const int64_t total = plan.outer * plan.rows * plan.inner;
  if (total == 0) return;
  asn::cuda::set_device(device);
  const DevicePlan p = cuda::to_device_plan(plan);
  sum_backward_kernel<T><<<cuda::grid_1d(total), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      gy, p, plan.inner_reduced, scale, gx, total);
  ASN_KERNEL_CHECK("sum backward");
}

template void sum_forward_cuda<float>(const float*, const ReducePlan&, double, float*, int);
template void sum_forward_cuda<double>(const double*, const ReducePlan&, double, double*, int);
template void sum_backward_cuda<float>(const float*, const ReducePlan&, double, float*, int);
template void sum_backward_cuda<double>(const double*, const ReducePlan&, double, double*, int);

}  // namespace asn::kernels
