// CUDA AdamW step (see adamw.h): one fused grid-stride kernel over the flat buffers; element i
// reads w, g, m, v once and writes w, m, v once. The step's scalars are formed on the host by
// adamw_coeffs (double, as PyTorch) and the element update is adamw_update (adamw_math.h), the
// same arithmetic in T as the CPU's.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/optim/adamw.h"
#include "kernels/optim/adamw_math.h"

namespace asn::kernels {

namespace {

template <class T>
__global__ void adamw_kernel(int64_t n, int64_t decay_count, const AdamwCoeffs<T> c, bool any_decay,
                             T* __restrict__ w, const T* __restrict__ g, T* __restrict__ m,
                             T* __restrict__ v) {
  ASN_GRID_STRIDE_LOOP(i, n) {
    T wi = w[i], mi = m[i], vi = v[i];
    adamw_update<T>(wi, g[i], mi, vi, c, any_decay && i < decay_count);
    w[i] = wi;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

template <class T>
void adamw_step_cuda(const AdamwParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* m,
                     T* v, int device) {
  if (n <= 0) return;
  asn::cuda::set_device(device);
  const AdamwCoeffs<T> c = adamw_coeffs<T>(p);
  adamw_kernel<T><<<cuda::grid_1d(n), cuda::kBlock, 0, asn::cuda::stream(device)>>>(
      n, decay_count, c, p.weight_decay != 0, w, g, m, v);
  ASN_KERNEL_CHECK("adamw");
}

template void adamw_step_cuda<float>(const AdamwParams&, int64_t, int64_t, float*, const float*,
                                     float*, float*, int);
template void adamw_step_cuda<double>(const AdamwParams&, int64_t, int64_t, double*, const double*,
                                      double*, double*, int);

}  // namespace asn::kernels
