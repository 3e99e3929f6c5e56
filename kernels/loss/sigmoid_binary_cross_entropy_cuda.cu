// CUDA sigmoid binary cross-entropy (see sigmoid_binary_cross_entropy.h): forward one warp per
// batch row (lanes over the classes, double sum by a fixed shuffle tree), backward one thread per
// element. The per-element arithmetic is sigmoid_binary_cross_entropy_math.h, as on the CPU.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/loss/sigmoid_binary_cross_entropy.h"
#include "kernels/loss/sigmoid_binary_cross_entropy_math.h"
#include "kernels/reduce/reduce_cuda.cuh"

namespace asn::kernels {

namespace {

using cuda::kWarp;

template <class T>
__global__ void bce_forward_kernel(const SigmoidBceParams p, const T* __restrict__ logits,
                                   const T* __restrict__ targets, T* __restrict__ row_loss) {
  const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
  const int64_t K = p.classes;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarp;
  for (int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       b < p.batch; b += warp_stride) {
    double sum = 0;
    for (int64_t k = lane; k < K; k += kWarp) {
      sum += static_cast<double>(sigmoid_bce_element<T>(logits[b * K + k], targets[b * K + k]));
    }
    sum = cuda::warp_sum(sum);
    if (lane == 0) row_loss[b] = static_cast<T>(sum);
  }
}

template <class T>
__global__ void bce_backward_kernel(int64_t n, const T* __restrict__ logits,
                                    const T* __restrict__ targets, const T* __restrict__ dloss,
                                    double divisor, T* __restrict__ dlogits) {
  const T sc = static_cast<T>(static_cast<double>(dloss[0]) / divisor);
  ASN_GRID_STRIDE_LOOP(i, n) dlogits[i] = sigmoid_bce_grad<T>(logits[i], targets[i], sc);
}

}  // namespace

template <class T>
void sigmoid_bce_forward_cuda(const SigmoidBceParams& p, const T* logits, const T* targets,
                              T* row_loss, int device) {
  if (p.batch == 0) return;
  asn::cuda::set_device(device);
  bce_forward_kernel<T>
      <<<cuda::grid_1d(p.batch * kWarp), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
          p, logits, targets, row_loss);
  ASN_KERNEL_CHECK("sigmoid_binary_cross_entropy");
}

template <class T>
void sigmoid_bce_backward_cuda(const SigmoidBceParams& p, const T* logits, const T* targets,
                               const T* dloss, double divisor, T* dlogits, int device) {
  const int64_t n = p.batch * p.classes;
  if (n == 0) return;
  asn::cuda::set_device(device);
  bce_backward_kernel<T><<<cuda::grid_1d(n), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      n, logits, targets, dloss, divisor, dlogits);
  ASN_KERNEL_CHECK("sigmoid_binary_cross_entropy backward");
}

template void sigmoid_bce_forward_cuda<float>(const SigmoidBceParams&, const float*, const float*,
                                              float*, int);
template void sigmoid_bce_forward_cuda<double>(const SigmoidBceParams&, const double*,
                                               const double*, double*, int);
template void sigmoid_bce_backward_cuda<float>(const SigmoidBceParams&, const float*, const float*,
                                               const float*, double, float*, int);
template void sigmoid_bce_backward_cuda<double>(const SigmoidBceParams&, const double*,
                                                const double*, const double*, double, double*, int);

}  // namespace asn::kernels
