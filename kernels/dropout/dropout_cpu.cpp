// CPU dropout (kernels/dropout/dropout.h): the mask recomputed per element from Philox.
#include "engine/parallel.h"
#include "kernels/dropout/dropout.h"
#include "kernels/dropout/dropout_math.h"

namespace asn::kernels {

template <class T>
void dropout_apply_cpu(const DropoutParams& p, const T* x, T* y, int64_t n) {
  const float rate = static_cast<float>(p.rate);
  const T scale = static_cast<T>(1.0 / (1.0 - p.rate));
  parallel_for(0, n, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const bool keep = dropout_keep(p.seed, p.offset, static_cast<uint64_t>(i), rate);
      y[i] = dropout_apply(x[i], keep, scale);
    }
  });
}

template void dropout_apply_cpu<float>(const DropoutParams&, const float*, float*, int64_t);
template void dropout_apply_cpu<double>(const DropoutParams&, const double*, double*, int64_t);

}  // namespace asn::kernels
