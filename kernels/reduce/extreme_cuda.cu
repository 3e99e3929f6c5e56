// CUDA min / max reductions and their tie-splitting gradient (see extreme.h).
//
// Whole tensor: each block reduces a piece of kAllPiece elements to one extreme (threads stride
// through the piece, then a shared-memory tree); a single block then reduces the piece results.
// Backward counts the elements equal to y per piece, one block adds the counts and forms the share
// gy / count on the device, and a last kernel writes gx.
// One axis, x viewed as (outer, len, inner): one thread per (o, piece of kLenPiece positions along
// the axis, i), neighbouring threads on neighbouring i (coalesced); piece results are combined in
// piece order by a second kernel. Backward: one thread per (o, i) counts the ties and forms the
// share, then one thread per element writes gx.
// Extremes and counts are exact, so no result depends on the partition; no atomics anywhere.
#include <algorithm>
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/reduce/extreme.h"
#include "kernels/reduce/extreme_math.h"

namespace asn::kernels {

namespace {

constexpr int64_t kAllPiece = 8192;  // elements per block of a whole-tensor reduction
constexpr int64_t kLenPiece = 64;    // positions along the axis per thread of an axis reduction

// The neutral start of a scan: -inf for max, +inf for min (never replaces a real value; a NaN
// still replaces it).
template <class T>
__device__ __forceinline__ T extreme_identity(Extreme kind) {
  return kind == Extreme::max ? static_cast<T>(-INFINITY) : static_cast<T>(INFINITY);
}

// The extreme over a block of cuda::kBlock threads, by a fixed tree; valid in every thread.
template <class T>
__device__ T block_extreme(T v, Extreme kind) {
  __shared__ T buf[cuda::kBlock];
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int half = cuda::kBlock / 2; half > 0; half >>= 1) {
    if (static_cast<int>(threadIdx.x) < half) {
      const T u = buf[threadIdx.x + half];
      const T b = buf[threadIdx.x];
      buf[threadIdx.x] = extreme_replaces<T>(u, b, kind) ? u : b;
    }
    __syncthreads();
  }
  return buf[0];
}

// out[b] = extreme of x[b * piece, min(n, (b + 1) * piece)); one block per piece.
template <class T>
__global__ void extreme_pieces_kernel(const T* __restrict__ x, int64_t n, int64_t piece,
                                      Extreme kind, T* __restrict__ out) {
  const int64_t lo = static_cast<int64_t>(blockIdx.x) * piece;
  const int64_t hi = lo + piece < n ? lo + piece : n;
  T best = extreme_identity<T>(kind);
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const T v = x[i];
    best = extreme_replaces<T>(v, best, kind) ? v : best;
  }
  best = block_extreme<T>(best, kind);
  if (threadIdx.x == 0) out[blockIdx.x] = best;
}

// counts[b] = number of elements equal to y[0] in piece b; one block per piece.
template <class T>
__global__ void count_equal_kernel(const T* __restrict__ x, int64_t n, int64_t piece,
                                   const T* __restrict__ y, int32_t* __restrict__ counts) {
  const T m = y[0];
  const int64_t lo = static_cast<int64_t>(blockIdx.x) * piece;
  const int64_t hi = lo + piece < n ? lo + piece : n;
  int32_t k = 0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) k += x[i] == m ? 1 : 0;
  k = cuda::block_reduce_sum(k);
  if (threadIdx.x == 0) counts[blockIdx.x] = k;
}

// share[0] = gy / (sum of counts), or 0 when nothing equals the extreme (a NaN result). One block.
template <class T>
__global__ void tie_share_kernel(const int32_t* __restrict__ counts, int64_t pieces,
                                 const T* __restrict__ gy, T* __restrict__ share) {
  long long k = 0;
  for (int64_t b = threadIdx.x; b < pieces; b += blockDim.x) k += counts[b];
  k = cuda::block_reduce_sum(k);
  if (threadIdx.x == 0) {
    share[0] = k > 0 ? static_cast<T>(static_cast<double>(gy[0]) / static_cast<double>(k)) : T(0);
  }
}

template <class T>
__global__ void extreme_all_backward_kernel(const T* __restrict__ x, int64_t n,
                                            const T* __restrict__ y, const T* __restrict__ share,
                                            T* __restrict__ gx) {
  const T m = y[0];
  const T s = share[0];
  ASN_GRID_STRIDE_LOOP(i, n) gx[i] = x[i] == m ? s : T(0);
}

template <class T>
__global__ void extreme_axis_kernel(const T* __restrict__ x, int64_t outer, int64_t len,
                                    int64_t inner, int64_t pieces, Extreme kind, T* __restrict__ y,
                                    T* __restrict__ partial) {
  const int64_t total = outer * pieces * inner;
  ASN_GRID_STRIDE_LOOP(t, total) {
    const int64_t i = t % inner;
    const int64_t rest = t / inner;
    const int64_t piece = rest % pieces;
    const int64_t o = rest / pieces;
    const int64_t j0 = piece * kLenPiece;
    const int64_t j1 = j0 + kLenPiece < len ? j0 + kLenPiece : len;
    const T* xo = x + o * len * inner + i;
    T best = xo[j0 * inner];
    for (int64_t j = j0 + 1; j < j1; ++j) {
      const T v = xo[j * inner];
      best = extreme_replaces<T>(v, best, kind) ? v : best;
    }
    const int64_t v = o * inner + i;
    if (pieces == 1) {
      y[v] = best;
    } else {
      partial[v * pieces + piece] = best;
    }
  }
}

template <class T>
__global__ void extreme_axis_combine_kernel(const T* __restrict__ partial, int64_t values,
                                            int64_t pieces, Extreme kind, T* __restrict__ y) {
  ASN_GRID_STRIDE_LOOP(v, values) {
    const T* pv = partial + v * pieces;
    T best = pv[0];
    for (int64_t k = 1; k < pieces; ++k) {
      best = extreme_replaces<T>(pv[k], best, kind) ? pv[k] : best;
    }
    y[v] = best;
  }
}

// share[o, i] = gy[o, i] / (number of j with x[o, j, i] == y[o, i]), or 0 when there is none.
template <class T>
__global__ void axis_tie_share_kernel(const T* __restrict__ x, int64_t outer, int64_t len,
                                      int64_t inner, const T* __restrict__ y,
                                      const T* __restrict__ gy, T* __restrict__ share) {
  ASN_GRID_STRIDE_LOOP(v, outer * inner) {
    const int64_t o = v / inner;
    const int64_t i = v % inner;
    const T m = y[v];
    const T* xo = x + o * len * inner + i;
    int64_t k = 0;
    for (int64_t j = 0; j < len; ++j) k += xo[j * inner] == m ? 1 : 0;
    share[v] = k > 0 ? static_cast<T>(static_cast<double>(gy[v]) / static_cast<double>(k)) : T(0);
  }
}

template <class T>
__global__ void extreme_axis_backward_kernel(const T* __restrict__ x, int64_t len, int64_t inner,
                                             const T* __restrict__ y, const T* __restrict__ share,
                                             T* __restrict__ gx, int64_t total) {
  ASN_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner;
    const int64_t o = e / (inner * len);
    const int64_t v = o * inner + i;
    gx[e] = x[e] == y[v] ? share[v] : T(0);
  }
}

}  // namespace

template <class T>
void extreme_all_forward_cuda(const T* x, int64_t n, Extreme kind, T* y, int device) {
  if (n <= 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int64_t pieces = (n + kAllPiece - 1) / kAllPiece;
  if (pieces == 1) {
    extreme_pieces_kernel<T><<<1, cuda::kBlock, 0, s>>>(x, n, kAllPiece, kind, y);
    ASN_KERNEL_CHECK("reduce_extreme");
    return;
  }
  Tensor partial = Tensor::empty(Shape{pieces}, dtype_of<T>(), Device::cuda(device));
  extreme_pieces_kernel<T><<<static_cast<unsigned>(pieces), cuda::kBlock, 0, s>>>(
      x, n, kAllPiece, kind, partial.data<T>());
  ASN_KERNEL_CHECK("reduce_extreme");
  extreme_pieces_kernel<T><<<1, cuda::kBlock, 0, s>>>(partial.data<T>(), pieces, pieces, kind, y);
  ASN_KERNEL_CHECK("reduce_extreme");
}

template <class T>
void extreme_all_backward_cuda(const T* x, int64_t n, const T* y, const T* gy, T* gx, int device) {
  if (n <= 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int64_t pieces = (n + kAllPiece - 1) / kAllPiece;
  Tensor counts = Tensor::empty(Shape{pieces}, DType::i32, Device::cuda(device));
  Tensor share = Tensor::empty(Shape{1}, dtype_of<T>(), Device::cuda(device));
  count_equal_kernel<T><<<static_cast<unsigned>(pieces), cuda::kBlock, 0, s>>>(
      x, n, kAllPiece, y, counts.data<int32_t>());
  ASN_KERNEL_CHECK("reduce_extreme backward");
  tie_share_kernel<T>
      <<<1, cuda::kBlock, 0, s>>>(counts.data<int32_t>(), pieces, gy, share.data<T>());
  ASN_KERNEL_CHECK("reduce_extreme backward");
  extreme_all_backward_kernel<T>
      <<<cuda::grid_1d(n), cuda::kBlock, 0, s>>>(x, n, y, share.data<T>(), gx);
  ASN_KERNEL_CHECK("reduce_extreme backward");
}

template <class T>
void extreme_axis_forward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, Extreme kind,
                               T* y, int device) {
  const int64_t values = outer * inner;
  if (values == 0 || len <= 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int64_t pieces = (len + kLenPiece - 1) / kLenPiece;
  Tensor partial;
  T* part = nullptr;
  if (pieces > 1) {
    partial = Tensor::empty(Shape{values * pieces}, dtype_of<T>(), Device::cuda(device));
    part = partial.data<T>();
  }
  extreme_axis_kernel<T><<<cuda::grid_1d(values * pieces), cuda::kBlock, 0, s>>>(
      x, outer, len, inner, pieces, kind, y, part);
  ASN_KERNEL_CHECK("reduce_extreme");
  if (pieces > 1) {
    extreme_axis_combine_kernel<T>
        <<<cuda::grid_1d(values), cuda::kBlock, 0, s>>>(part, values, pieces, kind, y);
    ASN_KERNEL_CHECK("reduce_extreme");
  }
}

template <class T>
void extreme_axis_backward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, const T* y,
                                const T* gy, T* gx, int device) {
  const int64_t values = outer * inner;
  const int64_t total = values * len;
  if (total == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  Tensor share = Tensor::empty(Shape{values}, dtype_of<T>(), Device::cuda(device));
  axis_tie_share_kernel<T>
      <<<cuda::grid_1d(values), cuda::kBlock, 0, s>>>(x, outer, len, inner, y, gy, share.data<T>());
  ASN_KERNEL_CHECK("reduce_extreme backward");
  extreme_axis_backward_kernel<T>
      <<<cuda::grid_1d(total), cuda::kBlock, 0, s>>>(x, len, inner, y, share.data<T>(), gx, total);
  ASN_KERNEL_CHECK("reduce_extreme backward");
}

template void extreme_all_forward_cuda<float>(const float*, int64_t, Extreme, float*, int);
template void extreme_all_forward_cuda<double>(const double*, int64_t, Extreme, double*, int);
template void extreme_all_backward_cuda<float>(const float*, int64_t, const float*, const float*,
                                               float*, int);
template void extreme_all_backward_cuda<double>(const double*, int64_t, const double*,
                                                const double*, double*, int);
template void extreme_axis_forward_cuda<float>(const float*, int64_t, int64_t, int64_t, Extreme,
                                               float*, int);
template void extreme_axis_forward_cuda<double>(const double*, int64_t, int64_t, int64_t, Extreme,
                                                double*, int);
template void extreme_axis_backward_cuda<float>(const float*, int64_t, int64_t, int64_t,
                                                const float*, const float*, float*, int);
template void extreme_axis_backward_cuda<double>(const double*, int64_t, int64_t, int64_t,
                                                 const double*, const double*, double*, int);

}  // namespace asn::kernels
