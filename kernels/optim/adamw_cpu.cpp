// CPU AdamW step (kernels/optim/adamw.h): one elementwise pass over the flat buffers, split over
// threads by a static partition.
#include "engine/parallel.h"
#include "kernels/optim/adamw.h"
#include "kernels/optim/adamw_math.h"

namespace asn::kernels {

template <class T>
void adamw_step_cpu(const AdamwParams& p, int64_t n, int64_t decay_count, T* w, const T* g, T* m,
                    T* v) {
  const AdamwCoeffs<T> c = adamw_coeffs<T>(p);
  const bool any_decay = p.weight_decay != 0;
  parallel_for(0, n, int64_t{1} << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      adamw_update<T>(w[i], g[i], m[i], v[i], c, any_decay && i < decay_count);
    }
  });
}

template void adamw_step_cpu<float>(const AdamwParams&, int64_t, int64_t, float*, const float*,
                                    float*, float*);
template void adamw_step_cpu<double>(const AdamwParams&, int64_t, int64_t, double*, const double*,
                                     double*, double*);

}  // namespace asn::kernels
