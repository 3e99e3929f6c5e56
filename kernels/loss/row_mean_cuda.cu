// CUDA mean of per-row losses (see row_mean.h): one block strides over the rows, then a fixed
// block tree; double throughout.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/loss/row_mean.h"

namespace asn::kernels {

namespace {

template <class T>
__global__ void row_mean_kernel(const T* __restrict__ row_loss, int64_t rows, double divisor,
                                T* __restrict__ out) {
  double acc = 0;
  for (int64_t b = threadIdx.x; b < rows; b += blockDim.x) acc += static_cast<double>(row_loss[b]);
  acc = cuda::block_reduce_sum(acc);
  if (threadIdx.x == 0) out[0] = static_cast<T>(acc / divisor);
}

}  // namespace

template <class T>
void row_mean_cuda(const T* row_loss, int64_t rows, double divisor, T* out, int device) {
  asn::cuda::set_device(device);
  row_mean_kernel<T>
      <<<1, cuda::kBlock, 0, asn::cuda::stream(device)>>>(row_loss, rows, divisor, out);
  ASN_KERNEL_CHECK("loss mean");
}

template void row_mean_cuda<float>(const float*, int64_t, double, float*, int);
template void row_mean_cuda<double>(const double*, int64_t, double, double*, int);

}  // namespace asn::kernels
