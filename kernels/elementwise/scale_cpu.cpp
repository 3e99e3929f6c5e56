// CPU scale, scale_by's reduction, and add_n (kernels/elementwise/scale.h).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/elementwise/scale.h"
#include "kernels/elementwise/scale_math.h"

namespace asn::kernels {

namespace {
constexpr int64_t kGrain = 1 << 15;  // elements per chunk below which a loop runs serially
}

template <class T>
void scale_cpu(const T* x, T alpha, T* y, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = scale_value(alpha, x[i]);
  });
}

template <class T>
double dot_cpu(const T* a, const T* b, int64_t n) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(num_threads(), n / kGrain));
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double s = 0;
      for (int64_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) {
        s += dot_term(a[i], b[i]);
      }
      partial[static_cast<size_t>(c)] = s;
    }
  });
  double s = 0;
  for (double p : partial) s += p;
  return s;
}

template <class T>
void add_n_cpu(const T* const* xs, int count, T* y, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = xs[0][i];
    for (int k = 1; k < count; ++k) {
      const T* x = xs[k];
      for (int64_t i = b; i < e; ++i) y[i] = add_n_step(y[i], x[i]);
    }
  });
}

#define ASN_INSTANTIATE(T)                                 \
  template void scale_cpu<T>(const T*, T, T*, int64_t);    \
  template double dot_cpu<T>(const T*, const T*, int64_t); \
  template void add_n_cpu<T>(const T* const*, int, T*, int64_t);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
