// Temporal soft-max pooling on the CPU (see temporal_softmax_pool.h). One (n, k) column per task;
// accumulation in double.
#include <cmath>
#include <vector>

#include "engine/parallel.h"
#include "kernels/head/temporal_softmax_pool.h"

namespace asn::kernels {

namespace {
// Softmax weights of column (n, k) over t into a[0..Tn).
template <class T>
void column_weights(const T* z, int64_t n, int64_t k, int64_t Tn, int64_t K, double tau, double* a) {
  double m = -INFINITY;
  for (int64_t t = 0; t < Tn; ++t) m = std::max(m, static_cast<double>(z[(n * Tn + t) * K + k]) / tau);
  double s = 0;
  for (int64_t t = 0; t < Tn; ++t) {
    a[t] = std::exp(static_cast<double>(z[(n * Tn + t) * K + k]) / tau - m);
    s += a[t];
  }
  for (int64_t t = 0; t < Tn; ++t) a[t] /= s;
}
}  // namespace

template <class T>
void temporal_softmax_pool_forward_cpu(const T* z, int64_t N, int64_t Tn, int64_t K, double tau, T* y) {
  parallel_for(0, N * K, 64, [&](int64_t b, int64_t e) {
    std::vector<double> a(static_cast<size_t>(Tn));
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / K, k = i % K;
      column_weights(z, n, k, Tn, K, tau, a.data());
      double acc = 0;
      for (int64_t t = 0; t < Tn; ++t) acc += a[static_cast<size_t>(t)] * static_cast<double>(z[(n * Tn + t) * K + k]);
      y[i] = static_cast<T>(acc);
    }
  });
}

template <class T>
void temporal_softmax_pool_backward_cpu(const T* z, const T* y, const T* dy, int64_t N, int64_t Tn, int64_t K,
                                        double tau, T* dz) {
  parallel_for(0, N * K, 64, [&](int64_t b, int64_t e) {
    std::vector<double> a(static_cast<size_t>(Tn));
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / K, k = i % K;
      column_weights(z, n, k, Tn, K, tau, a.data());
      const double yv = static_cast<double>(y[i]), g = static_cast<double>(dy[i]);
      for (int64_t t = 0; t < Tn; ++t) {
        const double at = a[static_cast<size_t>(t)];
        const double zt = static_cast<double>(z[(n * Tn + t) * K + k]);
        dz[(n * Tn + t) * K + k] = static_cast<T>(g * (at + at * (zt - yv) / tau));
      }
    }
  });
}

template void temporal_softmax_pool_forward_cpu<float>(const float*, int64_t, int64_t, int64_t, double, float*);
template void temporal_softmax_pool_forward_cpu<double>(const double*, int64_t, int64_t, int64_t, double, double*);
template void temporal_softmax_pool_backward_cpu<float>(const float*, const float*, const float*, int64_t, int64_t,
                                                        int64_t, double, float*);
template void temporal_softmax_pool_backward_cpu<double>(const double*, const double*, const double*, int64_t,
                                                         int64_t, int64_t, double, double*);

}  // namespace asn::kernels
