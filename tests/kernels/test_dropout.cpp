// Dropout: the mask is the Philox definition, about (1 - rate) of the elements are kept, kept
// values are scaled exactly by 1 / (1 - rate), (seed, offset) fixes the mask, the generator
// advances by one offset per call, backward is mask * scale * dy, identity when not training or
// rate 0, errors.
#include <catch2/catch.hpp>

#include "autograd/functions/dropout.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "tests/oracles/dropout_oracle.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

TEST_CASE("dropout: mask, kept fraction and exact scaling at rate 0.3 on 100k elements",
          "[dropout]") {
  const int64_t n = 100000;
  const double rate = 0.3;
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(dtype_name(dt));
    Tensor x = test::random_away_from_zero(Shape{40, 2500}, 81, 0.1, 2.0, dt);
    Generator gen(1234, 17);
    Variable y = dropout(Variable(x), rate, gen, true);
    REQUIRE(gen.offset() == 18);  // one draw per call
    const std::vector<bool> keep = oracle::dropout_mask(1234, 17, n, rate);
    const std::vector<double> xv = x.to_vector<double>(), yv = y.value().to_vector<double>();
    int64_t kept = 0;
    for (int64_t k = 0; k < n; ++k) {
      const size_t i = static_cast<size_t>(k);
      if (keep[i]) {
        ++kept;
        // Exact: the element times the scale rounded to the tensor's type, one rounding.
        const double expected = dt == DType::f32
                                    ? static_cast<double>(static_cast<float>(xv[i]) *
                                                          static_cast<float>(1.0 / (1.0 - rate)))
                                    : xv[i] * (1.0 / (1.0 - rate));
        if (yv[i] != expected) FAIL("element " << k << ": " << yv[i] << " vs " << expected);
      } else if (yv[i] != 0.0) {
        FAIL("element " << k << " should be dropped, got " << yv[i]);
      }
    }
    // Kept fraction 0.7 +- 0.01 (the binomial standard deviation is 0.00145).
    REQUIRE(static_cast<double>(kept) / n == Approx(0.7).margin(0.01));
  }
}

TEST_CASE("dropout: same seed and offset give the same mask, a new offset a new one", "[dropout]") {
  Tensor x = Tensor::full(Shape{8, 1000}, 1.0);
  Generator g1(99, 5), g2(99, 5);
  const std::vector<double> a = dropout(Variable(x), 0.5, g1, true).value().to_vector<double>();
  const std::vector<double> b = dropout(Variable(x), 0.5, g2, true).value().to_vector<double>();
  REQUIRE(a == b);
  const std::vector<double> c =
      dropout(Variable(x), 0.5, g1, true).value().to_vector<double>();  // offset 6
  REQUIRE(a != c);
  Generator g3(100, 5);  // another seed
  REQUIRE(dropout(Variable(x), 0.5, g3, true).value().to_vector<double>() != a);
}

TEST_CASE("dropout: backward is mask * scale * dy, recomputed from seed and offset", "[dropout]") {
  const Shape shape{3, 1, 5, 7, 11};
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(dtype_name(dt));
    Tensor x = test::random_uniform(shape, 82, -1, 1, dt);
    Tensor dy = test::random_uniform(shape, 83, -1, 1, dt);
    tape().clear();
    Variable vx(x, true);
    Generator gen(7, 0);
    Variable y = dropout(vx, 0.25, gen, true);
    // Draws taken between forward and backward must not disturb the backward mask.
    gen.next_offset();
    backward(y, dy);
    const std::vector<bool> keep = oracle::dropout_mask(7, 0, shape.numel(), 0.25);
    const std::vector<double> g = dy.to_vector<double>(), dx = vx.grad().to_vector<double>();
    const double scale =
        dt == DType::f32 ? static_cast<double>(static_cast<float>(1.0 / 0.75)) : 1.0 / 0.75;
    for (size_t i = 0; i < g.size(); ++i) {
      double expected = keep[i] ? g[i] * scale : 0.0;
      if (dt == DType::f32) expected = static_cast<double>(static_cast<float>(expected));
      if (dx[i] != expected) FAIL("element " << i << ": " << dx[i] << " vs " << expected);
    }
  }
  // gradcheck with a generator reset to the same state for every evaluation.
  Tensor x = test::random_uniform(shape, 84);
  GradcheckResult r = gradcheck(
      [](const std::vector<Variable>& v) {
        Generator gen(3, 9);
        return dropout(v[0], 0.4, gen, true);
      },
      {x});
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("dropout: identity when not training or at rate 0, generator untouched", "[dropout]") {
  Variable x(test::random_uniform(Shape{4, 5}, 85), true);
  Generator gen(1, 3);
  REQUIRE(dropout(x, 0.5, gen, false).same_as(x));
  REQUIRE(dropout(x, 0.0, gen, true).same_as(x));
  REQUIRE(gen.offset() == 3);
}

TEST_CASE("dropout: a rate outside 0 <= rate < 1 and bad dtypes throw naming the op", "[dropout]") {
  Variable x(Tensor::zeros(Shape{4, 5}, DType::f32));
  Generator gen(1);
  REQUIRE_THROWS_WITH(dropout(x, 1.0, gen, true), Catch::Contains("dropout: rate") &&
                                                      Catch::Contains("got 1") &&
                                                      Catch::Contains("f32 (4, 5)"));
  REQUIRE_THROWS_WITH(dropout(x, 1.0, gen, false), Catch::Contains("dropout: rate"));
  REQUIRE_THROWS_WITH(dropout(x, -0.1, gen, true), Catch::Contains("dropout: rate"));
  REQUIRE_THROWS_WITH(
      dropout(Variable(Tensor::zeros(Shape{4, 5}, DType::i32)), 0.5, gen, true),
      Catch::Contains("dropout: x must be f32 or f64") && Catch::Contains("i32 (4, 5)"));
  REQUIRE(gen.offset() == 0);
}
