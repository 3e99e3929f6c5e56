// CUDA SGD step (see sgd.h): one fused grid-stride kernel over the flat buffers; element i reads
// w, g (and the momentum buffer) once and writes w (and the buffer) once, with the update of
// sgd_math.h, the same arithmetic in T as the CPU's.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/optim/sgd.h"
#include "kernels/optim/sgd_math.h"

namespace asn::kernels {

namespace {

template <class T>
__global__ void sgd_kernel(int64_t n, int64_t decay_count, T lr, T momentum, T wd, bool nesterov,
                           T* __restrict__ w, const T* __restrict__ g, T* __restrict__ buf) {
  ASN_GRID_STRIDE_LOOP(i, n) {
    const T wdi = i < decay_count ? wd : T(0);
    T wi = w[i];
    if (buf == nullptr) {
      sgd_update<T>(wi, g[i], lr, wdi);
    } else {
      T bi = buf[i];
      sgd_momentum_update<T>(wi, bi, g[i], lr, momentum, wdi, nesterov);
      buf[i] = bi;
    }
    w[i] = wi;
  }
}

}  // namespace

template <class T>
void sgd_step_cuda(const SgdParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* buf,
                   int device) {
  if (n <= 0) return;
  asn::cuda::set_device(device);
  sgd_kernel<T><<<cuda::grid_1d(n), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      n, decay_count, static_cast<T>(p.lr), static_cast<T>(p.momentum),
      static_cast<T>(p.weight_decay), p.nesterov, w, g, buf);
  ASN_KERNEL_CHECK("sgd");
}

template void sgd_step_cuda<float>(const SgdParams&, int64_t, int64_t, float*, const float*, float*,
                                   int);
template void sgd_step_cuda<double>(const SgdParams&, int64_t, int64_t, double*, const double*,
                                    double*, int);

}  // namespace asn::kernels
