// Temporal soft-max pooling of the head: hand-computed values, gradient check, errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/functions/temporal_softmax_pool.h"
#include "autograd/gradcheck.h"
#include "tests/support/random.h"

using namespace asn;

TEST_CASE("temporal_softmax_pool: matches the formula", "[head]") {
  // N=1, T=4, K=2: tau = 2.
  std::vector<double> z{1, -1, 3, 0, 0, 2, -2, 5};
  ag::Variable v(Tensor::from_vector<double>(Shape{1, 4, 2}, z));
  std::vector<double> y = ag::temporal_softmax_pool(v).value().to_vector<double>();
  for (int k = 0; k < 2; ++k) {
    double s = 0, acc = 0;
    for (int t = 0; t < 4; ++t) s += std::exp(z[static_cast<size_t>(t * 2 + k)] / 2);
    for (int t = 0; t < 4; ++t) acc += z[static_cast<size_t>(t * 2 + k)] * std::exp(z[static_cast<size_t>(t * 2 + k)] / 2) / s;
    REQUIRE(y[static_cast<size_t>(k)] == Approx(acc).epsilon(1e-14));
  }
  // One frame: the logits themselves.
  ag::Variable one(Tensor::from_vector<double>(Shape{2, 1, 3}, {1, 2, 3, 4, 5, 6}));
  REQUIRE(ag::temporal_softmax_pool(one).value().to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
  // f32 agrees with f64.
  Tensor r = test::random_uniform(Shape{3, 5, 7}, 2, -4, 4);
  auto y64 = ag::temporal_softmax_pool(ag::Variable(r)).value().to_vector<double>();
  auto y32 = ag::temporal_softmax_pool(ag::Variable(r.to(DType::f32))).value().to_vector<double>();
  for (size_t i = 0; i < y64.size(); ++i) REQUIRE(y32[i] == Approx(y64[i]).epsilon(1e-6).margin(1e-6));
}

TEST_CASE("temporal_softmax_pool: gradient check", "[head][gradcheck]") {
  for (Shape s : {Shape{2, 5, 3}, Shape{1, 1, 4}, Shape{3, 2, 1}}) {
    auto r = ag::gradcheck([](const std::vector<ag::Variable>& v) { return ag::temporal_softmax_pool(v[0]); },
                           {test::random_uniform(s, 9, -3, 3)});
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("temporal_softmax_pool: errors name the op and the shape", "[head][errors]") {
  ag::Variable bad(Tensor::zeros(Shape{2, 3}));
  REQUIRE_THROWS_WITH(ag::temporal_softmax_pool(bad),
                      Catch::Contains("temporal_softmax_pool") && Catch::Contains("(2, 3)"));
  ag::Variable i32(Tensor::zeros(Shape{2, 3, 4}, DType::i32));
  REQUIRE_THROWS_WITH(ag::temporal_softmax_pool(i32), Catch::Contains("must be f32 or f64"));
}
