// SGD with optional (Nesterov) momentum and coupled L2 weight decay over a flat parameter buffer,
// in the TF / PyTorch form:
//
//   g' = g + wd * w                  (only for elements [0, decay_count): conv/dense kernels)
//   momentum == 0:  w -= lr * g'     (no buffer)
//   buf = momentum * buf + g'
//   plain:          w -= lr * buf
//   nesterov:       w -= lr * (g' + momentum * buf)
//
// Layout: w, g, buf are flat (n,) arrays (Parameters::values(), grads(), the optimizer's state).
// The arithmetic is in T (as PyTorch does for f32 parameters); hyper-parameters are cast to T.
// Determinism: purely elementwise, so the result does not depend on the thread count.
#pragma once

#include <cstdint>

namespace asn::kernels {

struct SgdParams {
  double lr = 0;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

// `buf` may be null exactly when momentum == 0.
template <class T>
void sgd_step_cpu(const SgdParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* buf);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)): one fused
// elementwise kernel over the flat buffers, the update of sgd_math.h per element.
template <class T>
void sgd_step_cuda(const SgdParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* buf,
                   int device);
#endif

}  // namespace asn::kernels
