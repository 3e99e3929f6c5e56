// AdamW (decoupled weight decay) over a flat parameter buffer, exactly PyTorch's torch.optim.AdamW
// (amsgrad off, single-tensor path). For update number `step` (1-based):
//
//   w  = w * (1 - lr * wd)                           (only for elements [0, decay_count))
//   m  = m + (1 - beta1) * (g - m)                   (= beta1 m + (1 - beta1) g, PyTorch's lerp)
//   v  = v * beta2 + (1 - beta2) * g * g
//   bc1 = 1 - beta1^step,  bc2 = 1 - beta2^step      (host, double)
//   denom = sqrt(v) / sqrt(bc2) + eps
//   w  = w - (lr / bc1) * m / denom
//
// Note eps is added after the bias correction of sqrt(v) (PyTorch), not to sqrt(v) before it.
// Layout: w, g, m, v are flat (n,) arrays. Scalars are formed in double on the host and cast to
// T; the per-element arithmetic is in T. Determinism: elementwise.
#pragma once

#include <cstdint>

namespace asn::kernels {

struct AdamwParams {
  double lr = 0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  int64_t step = 1;  // 1-based number of this update (bias correction)
};

template <class T>
void adamw_step_cpu(const AdamwParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* m,
                    T* v);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)): one fused
// elementwise kernel over the flat buffers, the scalars formed on the host exactly as for the CPU
// (adamw_coeffs) and the update of adamw_math.h per element.
template <class T>
void adamw_step_cuda(const AdamwParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* m,
                     T* v, int device);
#endif

}  // namespace asn::kernels
