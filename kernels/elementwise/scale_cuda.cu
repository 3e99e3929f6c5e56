// CUDA scale, scale_by, scale_by's reduction (dot) and add_n (kernels/elementwise/scale.h), over
// the arithmetic of scale_math.h.
#include <algorithm>

#include "engine/tensor.h"
#include "kernels/elementwise/map_cuda.cuh"
#include "kernels/elementwise/scale.h"
#include "kernels/elementwise/scale_math.h"

namespace asn::kernels {

namespace {

using cuda::kBlock;
using cuda::Pack;

template <class T>
struct ScaleBy {
  T alpha;
  __device__ T operator()(T x) const { return scale_value(alpha, x); }
};

// y = s[0] * x: s is read once per thread, before any store (y never aliases s: s is a separate
// one-element buffer).
template <class T, int V>
__global__ void scale_by_kernel(const T* x, const T* s, T* y, int64_t n) {
  const T alpha = *s;
  const int64_t packs = n / V;
  ASN_GRID_STRIDE_LOOP(i, packs) {
    Pack<T, V> p = cuda::load_pack<V>(x + i * V);
#pragma unroll
    for (int l = 0; l < V; ++l) p.v[l] = scale_value(alpha, p.v[l]);
    cuda::store_pack<V>(y + i * V, p);
  }
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - packs * V) y[packs * V + t] = scale_value(alpha, x[packs * V + t]);
}

// Stage 1 of dot: one double partial per block (grid-stride over packs, fixed block tree).
template <class T, int V>
__global__ void dot_partial_kernel(const T* a, const T* b, int64_t n, double* partial) {
  double acc = 0;
  const int64_t packs = n / V;
  ASN_GRID_STRIDE_LOOP(i, packs) {
    const Pack<T, V> pa = cuda::load_pack<V>(a + i * V);
    const Pack<T, V> pb = cuda::load_pack<V>(b + i * V);
#pragma unroll
    for (int l = 0; l < V; ++l) acc += dot_term(pa.v[l], pb.v[l]);
  }
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - packs * V) acc += dot_term(a[packs * V + t], b[packs * V + t]);
  acc = cuda::block_reduce_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// Stage 2: one block adds the partials (each thread a fixed strided subset, then the block tree).
template <class T>
__global__ void dot_finish_kernel(const double* partial, int count, T* out) {
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = cuda::block_reduce_sum(acc);
  if (threadIdx.x == 0) out[0] = static_cast<T>(acc);
}

// Up to kMaxInputs summands per launch, added in order.
constexpr int kMaxInputs = 16;
template <class T>
struct Inputs {
  const T* p[kMaxInputs];
  int count;
};

template <class T, int V>
__global__ void add_n_kernel(Inputs<T> in, T* y, int64_t n) {
  const int64_t packs = n / V;
  ASN_GRID_STRIDE_LOOP(i, packs) {
    Pack<T, V> s = cuda::load_pack<V>(in.p[0] + i * V);
    for (int k = 1; k < in.count; ++k) {
      const Pack<T, V> x = cuda::load_pack<V>(in.p[k] + i * V);
#pragma unroll
      for (int l = 0; l < V; ++l) s.v[l] = add_n_step(s.v[l], x.v[l]);
    }
    cuda::store_pack<V>(y + i * V, s);
  }
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - packs * V) {
    const int64_t i = packs * V + t;
    T s = in.p[0][i];
    for (int k = 1; k < in.count; ++k) s = add_n_step(s, in.p[k][i]);
    y[i] = s;
  }
}

}  // namespace

template <class T>
void scale_cuda(const T* x, T alpha, T* y, int64_t n, int device) {
  cuda::launch_map1("scale", x, y, n, ScaleBy<T>{alpha}, device);
}

template <class T>
void scale_by_cuda(const T* x, const T* s, T* y, int64_t n, int device) {
  if (n == 0) return;
  asn::cuda::set_device(device);
  constexpr int V = cuda::kPackWidth<T>;
  cudaStream_t st = asn::cuda::stream(device);
  if (cuda::is_aligned(x, 16) && cuda::is_aligned(y, 16)) {
    scale_by_kernel<T, V><<<cuda::grid_1d(n / V), kBlock, 0, st>>>(x, s, y, n);
  } else {
    scale_by_kernel<T, 1><<<cuda::grid_1d(n), kBlock, 0, st>>>(x, s, y, n);
  }
  ASN_KERNEL_CHECK("scale_by");
}

template <class T>
void dot_cuda(const T* a, const T* b, int64_t n, T* out, int device) {
  asn::cuda::set_device(device);
  constexpr int V = cuda::kPackWidth<T>;
  const bool packed = cuda::is_aligned(a, 16) && cuda::is_aligned(b, 16);
  const int v = packed ? V : 1;
  // The block count depends only on n (and the alignment), so the summation order is fixed.
  const int blocks =
      static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(1, n / v / kBlock)));
  Tensor partial = Tensor::empty(Shape{blocks}, DType::f64, Device::cuda(device));
  cudaStream_t st = asn::cuda::stream(device);
  if (packed) {
    dot_partial_kernel<T, V><<<blocks, kBlock, 0, st>>>(a, b, n, partial.data<double>());
  } else {
    dot_partial_kernel<T, 1><<<blocks, kBlock, 0, st>>>(a, b, n, partial.data<double>());
  }
  dot_finish_kernel<T><<<1, kBlock, 0, st>>>(partial.data<double>(), blocks, out);
  ASN_KERNEL_CHECK("scale_by");
}

template <class T>
void add_n_cuda(const T* const* xs, int count, T* y, int64_t n, int device) {
  if (n == 0) return;
  asn::cuda::set_device(device);
  constexpr int V = cuda::kPackWidth<T>;
  cudaStream_t st = asn::cuda::stream(device);
  // Launch j adds inputs [first, first + take) to the running sum (y itself after the first
  // launch), so the additions happen in input order as on the CPU.
  for (int first = 0; first < count;) {
    Inputs<T> in{};
    int k = 0;
    if (first > 0) in.p[k++] = y;
    const int take = std::min(count - first, kMaxInputs - k);
    for (int i = 0; i < take; ++i) in.p[k++] = xs[first + i];
    in.count = k;
    bool packed = cuda::is_aligned(y, 16);
    for (int i = 0; i < k; ++i) packed = packed && cuda::is_aligned(in.p[i], 16);
    if (packed) {
      add_n_kernel<T, V><<<cuda::grid_1d(n / V), kBlock, 0, st>>>(in, y, n);
    } else {
      add_n_kernel<T, 1><<<cuda::grid_1d(n), kBlock, 0, st>>>(in, y, n);
    }
    ASN_KERNEL_CHECK("add_n");
    first += take;
  }
}

#define ASN_INSTANTIATE(T)                                              \
  template void scale_cuda<T>(const T*, T, T*, int64_t, int);           \
  template void scale_by_cuda<T>(const T*, const T*, T*, int64_t, int); \
  template void dot_cuda<T>(const T*, const T*, int64_t, T*, int);      \
  template void add_n_cuda<T>(const T* const*, int, T*, int64_t, int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
