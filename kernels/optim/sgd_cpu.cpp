// CPU SGD step (kernels/optim/sgd.h): one elementwise pass over the flat buffers, split over
// threads by a static partition.
#include "engine/parallel.h"
#include "kernels/optim/sgd.h"
#include "kernels/optim/sgd_math.h"

namespace asn::kernels {

template <class T>
void sgd_step_cpu(const SgdParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* buf) {
  const T lr = static_cast<T>(p.lr);
  const T mom = static_cast<T>(p.momentum);
  const T wd = static_cast<T>(p.weight_decay);
  const bool nesterov = p.nesterov;
  parallel_for(0, n, int64_t{1} << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T wdi = i < decay_count ? wd : T(0);
      if (buf == nullptr) {
        sgd_update<T>(w[i], g[i], lr, wdi);
      } else {
        sgd_momentum_update<T>(w[i], buf[i], g[i], lr, mom, wdi, nesterov);
      }
    }
  });
}

template void sgd_step_cpu<float>(const SgdParams&, int64_t, int64_t, float*, const float*, float*);
template void sgd_step_cpu<double>(const SgdParams&, int64_t, int64_t, double*, const double*,
                                   double*);

}  // namespace asn::kernels
