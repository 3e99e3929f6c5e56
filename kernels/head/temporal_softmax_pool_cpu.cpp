// Temporal soft-max pooling on the CPU (see temporal_softmax_pool.h). One (n, k) column per task,
// the arithmetic of temporal_softmax_pool_math.h (shared with CUDA); accumulation in double.
#include "engine/parallel.h"
#include "kernels/head/temporal_softmax_pool.h"
#include "kernels/head/temporal_softmax_pool_math.h"

namespace asn::kernels {

template <class T>
void temporal_softmax_pool_forward_cpu(const T* z, int64_t N, int64_t Tn, int64_t K, double tau,
                                       T* y) {
  parallel_for(0, N * K, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* col = z + (i / K) * Tn * K + i % K;
      const double m = tsp_column_max(col, Tn, K, tau);
      const double s = tsp_column_sum(col, Tn, K, tau, m);
      y[i] = static_cast<T>(tsp_column_pool(col, Tn, K, tau, m, s));
    }
  });
}

template <class T>
void temporal_softmax_pool_backward_cpu(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn,
                                        int64_t K, double tau, T* dz) {
  parallel_for(0, N * K, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t base = (i / K) * Tn * K + i % K;
      const T* col = z + base;
      const double m = tsp_column_max(col, Tn, K, tau);
      const double s = tsp_column_sum(col, Tn, K, tau, m);
      const double yv = static_cast<double>(y[i]), g = static_cast<double>(dy[i]);
      for (int64_t t = 0; t < Tn; ++t) {
        const double zt = static_cast<double>(col[t * K]);
        dz[base + t * K] = static_cast<T>(tsp_grad(g, tsp_weight(zt, tau, m, s), zt, yv, tau));
      }
    }
  });
}

template void temporal_softmax_pool_forward_cpu<float>(const float*, int64_t, int64_t, int64_t,
                                                       double, float*);
template void temporal_softmax_pool_forward_cpu<double>(const double*, int64_t, int64_t, int64_t,
                                                        double, double*);
template void temporal_softmax_pool_backward_cpu<float>(const float*, const float*, const float*,
                                                        int64_t, int64_t, int64_t, double, float*);
template void temporal_softmax_pool_backward_cpu<double>(const double*, const double*,
                                                         const double*, int64_t, int64_t, int64_t,
                                                         double, double*);

}  // namespace asn::kernels
