// CUDA implementation of kernels/repflow/flow_normalize.h. Reductions (min / max, and the sums
// the backward pass needs) write one partial per block of a fixed-size grid; the host combines
// them in block order, so results are reproducible. The per-element arithmetic is the shared
// flownorm:: functions of the header.
// Note: compiled for sm_90 but not yet run on a GPU when written (docs/rep-flow.md).
#include <algorithm>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/repflow/flow_normalize.h"

namespace asn::kernels::cuda {

namespace {

int reduce_blocks(int64_t n) {
  return static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(1, (n + kBlock - 1) / kBlock)));
}

// Min and max over a block (blockDim.x a multiple of 32); valid in thread 0.
template <class T>
__device__ void block_min_max(T& mn, T& mx) {
  __shared__ T smin[32], smax[32];
  for (int o = 16; o > 0; o >>= 1) {
    mn = min(mn, __shfl_down_sync(0xffffffffu, mn, o));
    mx = max(mx, __shfl_down_sync(0xffffffffu, mx, o));
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    smin[warp] = mn;
    smax[warp] = mx;
  }
  __syncthreads();
  const int nwarps = (blockDim.x + 31) >> 5;
  if (warp == 0) {
    mn = lane < nwarps ? smin[lane] : smin[0];
    mx = lane < nwarps ? smax[lane] : smax[0];
    for (int o = 16; o > 0; o >>= 1) {
      mn = min(mn, __shfl_down_sync(0xffffffffu, mn, o));
      mx = max(mx, __shfl_down_sync(0xffffffffu, mx, o));
    }
  }
  __syncthreads();
}

// m (the channel mean, or x) into y; per-block min / max of m. Blocks without elements report
// the first element (a neutral value for min / max).
template <class T>
__global__ void reduce_channels_kernel(const T* __restrict__ x, FlowNormalizeDims d, T* y,
                                       T* bmin, T* bmax) {
  const int64_t co = d.out_channels();
  const int64_t n = d.pixels * co;
  T first = flownorm::reduce_channels(x, d.c, d.channel_mean);
  T mn = first, mx = first;
  ASN_GRID_STRIDE_LOOP(i, n) {
    const T m = d.channel_mean ? flownorm::reduce_channels(x + i * d.c, d.c, true) : x[i];
    y[i] = m;
    mn = min(mn, m);
    mx = max(mx, m);
  }
  block_min_max(mn, mx);
  if (threadIdx.x == 0) {
    bmin[blockIdx.x] = mn;
    bmax[blockIdx.x] = mx;
  }
}

template <class T>
__global__ void normalize_kernel(T* y, int64_t n, T mn, T mx) {
  ASN_GRID_STRIDE_LOOP(i, n) y[i] = flownorm::normalize_value(y[i], mn, mx);
}

// Per-block sums of g, g y, and the tie counts.
template <class T>
__global__ void backward_sums_kernel(const T* __restrict__ x, const T* __restrict__ gy,
                                     FlowNormalizeDims d, T mn, T mx, double* partial) {
  const int64_t co = d.out_channels();
  const int64_t n = d.pixels * co;
  double sg = 0, sgy = 0, cmin = 0, cmax = 0;
  ASN_GRID_STRIDE_LOOP(i, n) {
    const T m = d.channel_mean ? flownorm::reduce_channels(x + i * d.c, d.c, true) : x[i];
    const double g = static_cast<double>(gy[i]);
    sg += g;
    sgy += g * static_cast<double>(flownorm::normalize_value(m, mn, mx));
    cmin += m == mn ? 1.0 : 0.0;
    cmax += m == mx ? 1.0 : 0.0;
  }
  sg = block_reduce_sum(sg);
  sgy = block_reduce_sum(sgy);
  cmin = block_reduce_sum(cmin);
  cmax = block_reduce_sum(cmax);
  if (threadIdx.x == 0) {
    partial[4 * blockIdx.x + 0] = sg;
    partial[4 * blockIdx.x + 1] = sgy;
    partial[4 * blockIdx.x + 2] = cmin;
    partial[4 * blockIdx.x + 3] = cmax;
  }
}

template <class T>
__global__ void backward_kernel(const T* __restrict__ x, const T* __restrict__ gy,
                                FlowNormalizeDims d, T mn, T mx, T scale, T smin, T smax,
                                T* grad_x) {
  const int64_t n = d.pixels * d.c;
  const T inv_c = d.channel_mean ? T(1) / T(d.c) : T(1);
  ASN_GRID_STRIDE_LOOP(i, n) {
    if (d.channel_mean) {
      const int64_t p = i / d.c;
      const T m = flownorm::reduce_channels(x + p * d.c, d.c, true);
      const T gm = d.normalize ? flownorm::normalize_grad(m, gy[p], mn, mx, scale, smin, smax)
                               : gy[p];
      grad_x[i] = gm * inv_c;
    } else {
      grad_x[i] = d.normalize ? flownorm::normalize_grad(x[i], gy[i], mn, mx, scale, smin, smax)
                              : gy[i];
    }
  }
}

}  // namespace

template <class T>
FlowNormalizeStats flow_normalize_forward(const T* x, const FlowNormalizeDims& d, T* y,
                                          int device) {
  asn::cuda::set_device(device);
  cudaStream_t stream = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  const int64_t n = d.out_numel();
  const int blocks = reduce_blocks(n);
  Tensor part = Tensor::empty(Shape{2 * static_cast<int64_t>(blocks)}, dtype_of<T>(), dev);
  T* bmin = part.data<T>();
  reduce_channels_kernel<T><<<blocks, kBlock, 0, stream>>>(x, d, y, bmin, bmin + blocks);
  ASN_KERNEL_CHECK("rep_flow_input forward");
  FlowNormalizeStats st;
  if (!d.normalize || n == 0) return st;
  const std::vector<double> v = part.to_vector<double>();  // synchronises
  double mn = v[0], mx = v[static_cast<size_t>(blocks)];
  for (int b = 1; b < blocks; ++b) {
    mn = std::min(mn, v[static_cast<size_t>(b)]);
    mx = std::max(mx, v[static_cast<size_t>(blocks + b)]);
  }
  normalize_kernel<T><<<grid_1d(n), kBlock, 0, stream>>>(y, n, T(mn), T(mx));
  ASN_KERNEL_CHECK("rep_flow_input normalize");
  st.min = mn;
  st.max = mx;
  return st;
}

template <class T>
void flow_normalize_backward(const T* x, const T* grad_y, const FlowNormalizeDims& d,
                             const FlowNormalizeStats& st, T* grad_x, int device) {
  asn::cuda::set_device(device);
  cudaStream_t stream = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  const T mn = T(st.min), mx = T(st.max);
  FlowNormalizeShares sh;
  if (d.normalize) {
    const int64_t n = d.out_numel();
    const int blocks = reduce_blocks(n);
    Tensor part = Tensor::empty(Shape{4 * static_cast<int64_t>(blocks)}, DType::f64, dev);
    backward_sums_kernel<T><<<blocks, kBlock, 0, stream>>>(x, grad_y, d, mn, mx,
                                                          part.data<double>());
    ASN_KERNEL_CHECK("rep_flow_input backward sums");
    const std::vector<double> v = part.to_vector<double>();  // synchronises
    double sg = 0, sgy = 0, cmin = 0, cmax = 0;
    for (int b = 0; b < blocks; ++b) {
      sg += v[static_cast<size_t>(4 * b)];
      sgy += v[static_cast<size_t>(4 * b + 1)];
      cmin += v[static_cast<size_t>(4 * b + 2)];
      cmax += v[static_cast<size_t>(4 * b + 3)];
    }
    sh = flow_normalize_shares(st, sg, sgy, static_cast<int64_t>(cmin),
                               static_cast<int64_t>(cmax), n);
  }
  const int64_t total = d.pixels * d.c;
  backward_kernel<T><<<grid_1d(total), kBlock, 0, stream>>>(
      x, grad_y, d, mn, mx, T(sh.scale), T(sh.min_share), T(sh.max_share), grad_x);
  ASN_KERNEL_CHECK("rep_flow_input backward");
}

template FlowNormalizeStats flow_normalize_forward<float>(const float*, const FlowNormalizeDims&,
                                                          float*, int);
template FlowNormalizeStats flow_normalize_forward<double>(const double*,
                                                           const FlowNormalizeDims&, double*, int);
template void flow_normalize_backward<float>(const float*, const float*, const FlowNormalizeDims&,
                                             const FlowNormalizeStats&, float*, int);
template void flow_normalize_backward<double>(const double*, const double*,
                                              const FlowNormalizeDims&, const FlowNormalizeStats&,
                                              double*, int);

}  // namespace asn::kernels::cuda
