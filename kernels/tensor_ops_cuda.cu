// CUDA implementations of kernels/tensor_ops.h. Reductions write one partial per block and sum the
// partials on the host in block order, so results are deterministic.
#include <cmath>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/tensor_ops.h"

namespace asn::kernels::cuda {

namespace {

template <class T>
__global__ void axpy_kernel(T* d, const T* s, T a, int64_t n) {
  ASN_GRID_STRIDE_LOOP(i, n) d[i] += a * s[i];
}
template <class T>
__global__ void scale_kernel(T* d, T a, int64_t n) {
  ASN_GRID_STRIDE_LOOP(i, n) d[i] *= a;
}

enum class Reduce { kSum, kSquares, kNonFinite };

template <class T, Reduce R>
__global__ void reduce_kernel(const T* p, int64_t n, double* partial) {
  double acc = 0;
  ASN_GRID_STRIDE_LOOP(i, n) {
    const double v = static_cast<double>(p[i]);
    if (R == Reduce::kSum) acc += v;
    if (R == Reduce::kSquares) acc += v * v;
    if (R == Reduce::kNonFinite) acc += isfinite(v) ? 0.0 : 1.0;
  }
  acc = block_reduce_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <class F>
void dispatch_float(const char* op, const Tensor& t, F&& f) {
  if (t.dtype() == DType::f32) {
    f(float{});
  } else if (t.dtype() == DType::f64) {
    f(double{});
  } else {
    ASN_THROW(TypeError, "{}: needs an f32 or f64 tensor, got {}", op, describe(t));
  }
}

template <Reduce R>
double reduce(const char* op, const Tensor& t) {
  const int dev = t.device().index;
  asn::cuda::set_device(dev);
  const int64_t n = t.numel();
  const int blocks = static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(1, (n + kBlock - 1) / kBlock)));
  Tensor partial = Tensor::empty(Shape{blocks}, DType::f64, t.device());
  dispatch_float(op, t, [&](auto tag) {
    using T = decltype(tag);
    reduce_kernel<T, R><<<blocks, kBlock, 0, asn::cuda::stream(dev)>>>(t.data<T>(), n,
                                                                       partial.data<double>());
  });
  ASN_KERNEL_CHECK(op);
  double s = 0;
  for (double v : partial.to_vector<double>()) s += v;
  return s;
}

}  // namespace

void axpy_inplace(Tensor& dst, double alpha, const Tensor& src) {
  const int dev = dst.device().index;
  asn::cuda::set_device(dev);
  dispatch_float("axpy", dst, [&](auto tag) {
    using T = decltype(tag);
    axpy_kernel<T><<<grid_1d(dst.numel()), kBlock, 0, asn::cuda::stream(dev)>>>(
        dst.data<T>(), src.data<T>(), static_cast<T>(alpha), dst.numel());
  });
  ASN_KERNEL_CHECK("axpy");
}

void add_inplace(Tensor& dst, const Tensor& src) { axpy_inplace(dst, 1.0, src); }

void scale_inplace(Tensor& dst, double alpha) {
  const int dev = dst.device().index;
  asn::cuda::set_device(dev);
  dispatch_float("scale", dst, [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<T><<<grid_1d(dst.numel()), kBlock, 0, asn::cuda::stream(dev)>>>(
        dst.data<T>(), static_cast<T>(alpha), dst.numel());
  });
  ASN_KERNEL_CHECK("scale");
}

double sum_squares(const Tensor& t) { return reduce<Reduce::kSquares>("sum_squares", t); }
double sum_all(const Tensor& t) { return reduce<Reduce::kSum>("sum_all", t); }
bool all_finite(const Tensor& t) { return reduce<Reduce::kNonFinite>("all_finite", t) == 0; }

}  // namespace asn::kernels::cuda
