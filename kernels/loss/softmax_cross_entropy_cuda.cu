// CUDA softmax cross-entropy (see softmax_cross_entropy.h): one warp per batch row, the lanes
// striding over the classes (coalesced), reductions by warp shuffles in a fixed order. The
// per-logit arithmetic is softmax_cross_entropy_math.h, as on the CPU.
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/loss/softmax_cross_entropy.h"
#include "kernels/loss/softmax_cross_entropy_math.h"
#include "kernels/reduce/reduce_cuda.cuh"

namespace asn::kernels {

namespace {

using cuda::kWarp;

// Smoothed target of element (b, k) from either representation (as the CPU's target_at).
template <class T>
__device__ __forceinline__ T target_at(const SoftmaxCrossEntropyParams& p, const int32_t* labels,
                                       const T* targets, int64_t b, int64_t k) {
  const T s = static_cast<T>(p.label_smoothing);
  if (labels != nullptr) return sce_label_target<T>(k, labels[b], s, p.classes);
  return sce_smoothed_target<T>(targets[b * p.classes + k], s, p.classes);
}

// Grid for one warp per row (grid-stride beyond the cap).
int row_grid(int64_t rows) { return cuda::grid_1d(rows * kWarp); }

template <class T>
__global__ void sce_forward_kernel(const SoftmaxCrossEntropyParams p, const T* __restrict__ logits,
                                   const int32_t* __restrict__ labels,
                                   const T* __restrict__ targets, T* __restrict__ row_loss,
                                   T* __restrict__ row_lse) {
  const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
  const int64_t K = p.classes;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  // Every lane of a warp runs the same rows, so the shuffles see full warps.
  for (int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       b < p.batch; b += warp_stride) {
    const T* z = logits + b * K;
    T m = z[0];
    for (int64_t k = lane; k < K; k += kWarp) m = z[k] > m ? z[k] : m;
    m = cuda::warp_max_all(m);
    double sum_exp = 0;
    for (int64_t k = lane; k < K; k += kWarp) sum_exp += static_cast<double>(exp(z[k] - m));
    sum_exp = cuda::warp_sum_all(sum_exp);
    const double lse = static_cast<double>(m) + log(sum_exp);
    double loss = 0;
    for (int64_t k = lane; k < K; k += kWarp) {
      const double t = static_cast<double>(target_at<T>(p, labels, targets, b, k));
      loss += t * (lse - static_cast<double>(z[k]));
    }
    loss = cuda::warp_sum(loss);
    if (lane == 0) {
      row_loss[b] = static_cast<T>(loss);
      row_lse[b] = static_cast<T>(lse);
    }
  }
}

template <class T>
__global__ void sce_backward_kernel(const SoftmaxCrossEntropyParams p, const T* __restrict__ logits,
                                    const int32_t* __restrict__ labels,
                                    const T* __restrict__ targets, const T* __restrict__ row_lse,
                                    const T* __restrict__ dloss, double divisor,
                                    T* __restrict__ dlogits) {
  const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
  const int64_t K = p.classes;
  const T sc = static_cast<T>(static_cast<double>(dloss[0]) / divisor);
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  for (int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       b < p.batch; b += warp_stride) {
    // One-hot targets sum to 1 after smoothing; dense targets are summed as given.
    T target_sum = T(1);
    if (labels == nullptr) {
      double s = 0;
      for (int64_t k = lane; k < K; k += kWarp) {
        s += static_cast<double>(target_at<T>(p, labels, targets, b, k));
      }
      target_sum = static_cast<T>(cuda::warp_sum_all(s));
    }
    const T lse = row_lse[b];
    const T* z = logits + b * K;
    T* dz = dlogits + b * K;
    for (int64_t k = lane; k < K; k += kWarp) {
      dz[k] = sce_grad<T>(z[k], lse, target_at<T>(p, labels, targets, b, k), target_sum, sc);
    }
  }
}

}  // namespace

template <class T>
void softmax_cross_entropy_forward_cuda(const SoftmaxCrossEntropyParams& p, const T* logits,
                                        const int32_t* labels, const T* targets, T* row_loss,
                                        T* row_lse, int device) {
  if (p.batch == 0) return;
  asn::cuda::set_device(device);
  sce_forward_kernel<T><<<row_grid(p.batch), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      p, logits, labels, targets, row_loss, row_lse);
  ASN_KERNEL_CHECK("softmax_cross_entropy");
}

template <class T>
void softmax_cross_entropy_backward_cuda(const SoftmaxCrossEntropyParams& p, const T* logits,
                                         const int32_t* labels, const T* targets, const T* row_lse,
                                         const T* dloss, double divisor, T* dlogits, int device) {
  if (p.batch == 0) return;
  asn::cuda::set_device(device);
  sce_backward_kernel<T><<<row_grid(p.batch), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      p, logits, labels, targets, row_lse, dloss, divisor, dlogits);
  ASN_KERNEL_CHECK("softmax_cross_entropy backward");
}

template void softmax_cross_entropy_forward_cuda<float>(const SoftmaxCrossEntropyParams&,
                                                        const float*, const int32_t*, const float*,
                                                        float*, float*, int);
template void softmax_cross_entropy_forward_cuda<double>(const SoftmaxCrossEntropyParams&,
                                                         const double*, const int32_t*,
                                                         const double*, double*, double*, int);
template void softmax_cross_entropy_backward_cuda<float>(const SoftmaxCrossEntropyParams&,
                                                         const float*, const int32_t*, const float*,
                                                         const float*, const float*, double, float*,
                                                         int);
template void softmax_cross_entropy_backward_cuda<double>(const SoftmaxCrossEntropyParams&,
                                                          const double*, const int32_t*,
                                                          const double*, const double*,
                                                          const double*, double, double*, int);

}  // namespace asn::kernels
