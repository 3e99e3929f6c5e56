// Philox and the Generator: known-answer test, independence of draws, distributions.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/philox.h"
#include "engine/rng.h"

using namespace asn;

TEST_CASE("philox: known-answer vectors of Random123", "[engine][rng]") {
  // From Random123's kat_vectors (philox4x32_10).
  PhiloxResult r = philox4x32_10(0, 0, 0, 0, 0, 0);
  REQUIRE(r.v[0] == 0x6627e8d5u);
  REQUIRE(r.v[1] == 0xe169c58du);
  REQUIRE(r.v[2] == 0xbc57ac4cu);
  REQUIRE(r.v[3] == 0x9b00dbd8u);
  r = philox4x32_10(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  REQUIRE(r.v[0] == 0x408f276du);
  REQUIRE(r.v[1] == 0x41c83b0eu);
  REQUIRE(r.v[2] == 0xa20bc7c6u);
  REQUIRE(r.v[3] == 0x6d5451fdu);
  r = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  REQUIRE(r.v[0] == 0xd16cfe09u);
  REQUIRE(r.v[1] == 0x94fdccebu);
  REQUIRE(r.v[2] == 0x5001e420u);
  REQUIRE(r.v[3] == 0x24126ea1u);
}

TEST_CASE("generator: draws depend only on seed and offset", "[engine][rng]") {
  Generator a(42), b(42), c(43);
  Tensor x = Tensor::empty(Shape{1000}), y = Tensor::empty(Shape{1000}), z = Tensor::empty(Shape{1000});
  a.fill_uniform(x, 0, 1);
  b.fill_uniform(y, 0, 1);
  c.fill_uniform(z, 0, 1);
  REQUIRE(x.to_vector<float>() == y.to_vector<float>());
  REQUIRE(x.to_vector<float>() != z.to_vector<float>());
  REQUIRE(a.offset() == 1);
  // A shorter draw at the same (seed, offset) is a prefix of the longer one.
  Generator d(42);
  Tensor s = Tensor::empty(Shape{10});
  d.fill_uniform(s, 0, 1);
  for (int i = 0; i < 10; ++i) REQUIRE(s.to_vector<float>()[i] == x.to_vector<float>()[i]);
  // Restoring the state replays the stream.
  Generator e(7);
  e.uniform();
  const uint64_t off = e.offset();
  const double v1 = e.uniform();
  e.set_state(7, off);
  REQUIRE(e.uniform() == v1);
}

TEST_CASE("generator: distributions have the right moments", "[engine][rng]") {
  Generator g(3);
  Tensor t = Tensor::empty(Shape{200000}, DType::f64);
  g.fill_normal(t, 1.0, 2.0);
  double m = 0, v = 0;
  auto vals = t.to_vector<double>();
  for (double x : vals) m += x;
  m /= vals.size();
  for (double x : vals) v += (x - m) * (x - m);
  v /= vals.size();
  REQUIRE(std::fabs(m - 1.0) < 0.02);
  REQUIRE(std::fabs(std::sqrt(v) - 2.0) < 0.02);

  g.fill_truncated_normal(t, 0.0, 1.0);
  vals = t.to_vector<double>();
  double mx = 0, v2 = 0;
  for (double x : vals) {
    mx = std::max(mx, std::fabs(x));
    v2 += x * x;
  }
  REQUIRE(mx <= 2.0);
  // Variance of a standard normal truncated at +-2: 0.7737.
  REQUIRE(std::fabs(v2 / vals.size() - 0.7737) < 0.01);

  int hist[10] = {};
  for (int i = 0; i < 100000; ++i) hist[g.uniform_int(10)]++;
  for (int h : hist) REQUIRE(std::abs(h - 10000) < 500);
}
