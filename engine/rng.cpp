// Host-side random fills on top of Philox.
#include "engine/rng.h"

#include <cmath>

#include "engine/parallel.h"
#include "engine/philox.h"
#include "engine/rng_math.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/rng_kernels.h"
#endif

namespace asn {

double Generator::uniform() { return philox_uniform_f64(seed_, next_offset(), 0); }

uint64_t Generator::uniform_int(uint64_t n) {
  ASN_CHECK(n >= 1, "uniform_int needs n >= 1");
  const uint64_t off = next_offset();
  // Rejection sampling on 64-bit values for an unbiased result.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  for (uint64_t k = 0;; ++k) {
    const uint64_t v = (static_cast<uint64_t>(philox_bits(seed_, off, 2 * k)) << 32) |
                       philox_bits(seed_, off, 2 * k + 1);
    if (v < limit) return v % n;
  }
}

double Generator::normal(double mean, double std) {
  return mean + std * philox_normal(seed_, next_offset(), 0);
}

namespace {
#ifdef ASN_WITH_CUDA
using cuda::RandomKind;
#else
enum class RandomKind { kUniform, kNormal, kTruncatedNormal };
#endif

// Fills t with value_of(k) for every element k (CPU), or launches the same mapping on CUDA.
template <class F>
void fill_each(Tensor& t, const char* what, RandomKind kind, uint64_t seed, uint64_t offset, double a,
               double b, const F& value_of) {
  if (t.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    cuda::random_fill(t.raw_data(), t.dtype(), t.numel(), kind, seed, offset, a, b, t.device().index);
    return;
#else
    ASN_THROW(DeviceError, "{}: this build has no CUDA support", what);
#endif
  }
  const int64_t n = t.numel();
  if (t.dtype() == DType::f32) {
    float* p = t.data<float>();
    parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<float>(value_of(static_cast<uint64_t>(i)));
    });
  } else if (t.dtype() == DType::f64) {
    double* p = t.data<double>();
    parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = value_of(static_cast<uint64_t>(i));
    });
  } else {
    ASN_THROW(TypeError, "{}: needs an f32 or f64 tensor, got {}", what, describe(t));
  }
}
}  // namespace

void Generator::fill_uniform(Tensor& t, double lo, double hi) {
  const uint64_t s = seed_, off = next_offset();
  fill_each(t, "fill_uniform", RandomKind::kUniform, s, off, lo, hi,
            [&](uint64_t k) { return philox_uniform_range(s, off, k, lo, hi); });
}

void Generator::fill_normal(Tensor& t, double mean, double std) {
  const uint64_t s = seed_, off = next_offset();
  fill_each(t, "fill_normal", RandomKind::kNormal, s, off, mean, std,
            [&](uint64_t k) { return std::fma(std, philox_normal(s, off, k), mean); });
}

void Generator::fill_truncated_normal(Tensor& t, double mean, double std) {
  const uint64_t s = seed_, off = next_offset();
  const uint64_t n = static_cast<uint64_t>(t.numel());
  fill_each(t, "fill_truncated_normal", RandomKind::kTruncatedNormal, s, off, mean, std,
            [&](uint64_t k) { return std::fma(std, philox_truncated_normal(s, off, k, n), mean); });
}

}  // namespace asn
