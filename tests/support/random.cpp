// Seeded random test tensors.
#include "tests/support/random.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "engine/rng.h"

namespace asn::test {

Tensor random_uniform(const Shape& shape, uint64_t seed, double lo, double hi, DType dtype) {
  Tensor t = Tensor::empty(shape, DType::f64);
  Generator g(seed);
  g.fill_uniform(t, lo, hi);
  return t.to(dtype);
}

Tensor random_normal(const Shape& shape, uint64_t seed, double std, DType dtype) {
  Tensor t = Tensor::empty(shape, DType::f64);
  Generator g(seed);
  g.fill_normal(t, 0.0, std);
  return t.to(dtype);
}

Tensor random_distinct(const Shape& shape, uint64_t seed, double gap, DType dtype) {
  const int64_t n = shape.numel();
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  Generator g(seed);
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    const int64_t j = static_cast<int64_t>(g.uniform_int(static_cast<uint64_t>(i + 1)));
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(j)]);
  }
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = (static_cast<double>(idx[static_cast<size_t>(i)]) - 0.5 * n) * gap;
  return Tensor::from_vector<double>(shape, v).to(dtype);
}

Tensor random_away_from_zero(const Shape& shape, uint64_t seed, double min_abs, double max_abs,
                             DType dtype) {
  Tensor mag = random_uniform(shape, seed, min_abs, max_abs);
  Tensor sign = random_uniform(shape, seed + 7919, -1, 1);
  double* m = mag.data<double>();
  const double* s = sign.data<double>();
  for (int64_t i = 0; i < mag.numel(); ++i)
    if (s[i] < 0) m[i] = -m[i];
  return mag.to(dtype);
}

}  // namespace asn::test
