// Host-side random fills on top of Philox.
#include "engine/rng.h"

#include <cmath>

#include "engine/parallel.h"
#include "engine/philox.h"

namespace asn {

double philox_normal(uint64_t seed, uint64_t offset, uint64_t k) {
  // u1 in (0, 1] so log never sees 0.
  const double u1 = 1.0 - philox_uniform_f64(seed, offset, 2 * k);
  const double u2 = philox_uniform_f64(seed, offset, 2 * k + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

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
template <class F>
void fill_each(Tensor& t, const char* what, const F& value_of) {
  ASN_CHECK_TYPE(t.device().is_cpu(), "{}: generator fills run on the CPU, got {}", what, describe(t));
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
  fill_each(t, "fill_uniform",
            [&](uint64_t k) { return lo + (hi - lo) * philox_uniform_f64(s, off, k); });
}

void Generator::fill_normal(Tensor& t, double mean, double std) {
  const uint64_t s = seed_, off = next_offset();
  fill_each(t, "fill_normal", [&](uint64_t k) { return mean + std * philox_normal(s, off, k); });
}

void Generator::fill_truncated_normal(Tensor& t, double mean, double std) {
  const uint64_t s = seed_, off = next_offset();
  const uint64_t n = static_cast<uint64_t>(t.numel());
  // Attempt a of element k uses normal number k + a*n of the draw, so every element is independent
  // of the others and of the thread partition.
  fill_each(t, "fill_truncated_normal", [&](uint64_t k) {
    for (uint64_t a = 0;; ++a) {
      const double z = philox_normal(s, off, k + a * n);
      if (std::fabs(z) <= 2.0) return mean + std * z;
    }
  });
}

}  // namespace asn
