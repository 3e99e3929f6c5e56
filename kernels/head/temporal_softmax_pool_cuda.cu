// Temporal soft-max pooling on CUDA (see temporal_softmax_pool.h): one thread per (n, k) column,
// neighbouring threads on neighbouring classes (coalesced reads of each frame's row), the frames
// walked in order with the CPU's arithmetic (temporal_softmax_pool_math.h). No reductions across
// threads: deterministic, and equal to the CPU up to the last bits of exp.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/head/temporal_softmax_pool.h"
#include "kernels/head/temporal_softmax_pool_math.h"

namespace asn::kernels {

namespace {

template <class T>
__global__ void tsp_forward_kernel(const T* __restrict__ z, int64_t N, int64_t Tn, int64_t K,
                                   double tau, T* __restrict__ y) {
  ASN_GRID_STRIDE_LOOP(i, N * K) {
    const T* col = z + (i / K) * Tn * K + i % K;
    const double m = tsp_column_max(col, Tn, K, tau);
    const double s = tsp_column_sum(col, Tn, K, tau, m);
    y[i] = static_cast<T>(tsp_column_pool(col, Tn, K, tau, m, s));
  }
}

template <class T>
__global__ void tsp_backward_kernel(const T* __restrict__ z, const T* __restrict__ y,
                                    const T* __restrict__ dy, int64_t N, int64_t Tn, int64_t K,
                                    double tau, T* __restrict__ dz) {
  ASN_GRID_STRIDE_LOOP(i, N * K) {
    const int64_t base = (i / K) * Tn * K + i % K;
    const T* col = z + base;
    const double m = tsp_column_max(col, Tn, K, tau);
    const double s = tsp_column_sum(col, Tn, K, tau, m);
    const double yv = static_cast<double>(y[i]), g = static_cast<double>(dy[i]);
    for (int64_t t = 0; t < Tn; ++t) {
      const double zt = static_cast<double>(col[t * K]);
      dz[base + t * K] = static_cast<T>(tsp_grad(g, tsp_weight(zt, tau, m, s), zt, yv, tau));
    }
  }
}

}  // namespace

template <class T>
void temporal_softmax_pool_forward_cuda(const T* z, int64_t N, int64_t Tn, int64_t K, double tau,
                                        T* y, int device) {
  if (N * K == 0) return;
  asn::cuda::set_device(device);
  tsp_forward_kernel<T>
      <<<cuda::grid_1d(N * K), cuda::kBlock, 0, asn::cuda::stream(device)>>>(z, N, Tn, K, tau, y);
  ASN_KERNEL_CHECK("temporal_softmax_pool");
}

template <class T>
void temporal_softmax_pool_backward_cuda(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn,
                                         int64_t K, double tau, T* dz, int device) {
  if (N * K * Tn == 0) return;
  asn::cuda::set_device(device);
  tsp_backward_kernel<T><<<cuda::grid_1d(N * K), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      z, y, dy, N, Tn, K, tau, dz);
  ASN_KERNEL_CHECK("temporal_softmax_pool");
}

template void temporal_softmax_pool_forward_cuda<float>(const float*, int64_t, int64_t, int64_t,
                                                        double, float*, int);
template void temporal_softmax_pool_forward_cuda<double>(const double*, int64_t, int64_t, int64_t,
                                                         double, double*, int);
template void temporal_softmax_pool_backward_cuda<float>(const float*, const float*, const float*,
                                                         int64_t, int64_t, int64_t, double, float*,
                                                         int);
template void temporal_softmax_pool_backward_cuda<double>(const double*, const double*,
                                                          const double*, int64_t, int64_t, int64_t,
                                                          double, double*, int);

}  // namespace asn::kernels
