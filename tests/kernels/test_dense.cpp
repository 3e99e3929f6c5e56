// dense: forward against the naive oracle with leading axes (2, 3, 5) and without them, with and
// without bias (f32, f64); gradcheck of x, w, b (f64); only the needed gradients; bias gradient
// independent of the thread count; errors.
#include <catch2/catch.hpp>
#include <vector>

#include "autograd/functions/dense.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "tests/oracles/dense_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

TEST_CASE("dense: forward matches the oracle, with leading axes and without bias", "[dense]") {
  uint64_t seed = 1;
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Shape& xs : {Shape{2, 3, 5, 7}, Shape{4, 7}, Shape{7}}) {
      for (bool bias : {true, false}) {
        INFO(xs.str() << " bias " << bias << " " << dtype_name(dt));
        Tensor x = test::random_uniform(xs, ++seed, -1, 1, dt);
        Tensor w = test::random_uniform(Shape{6, 7}, ++seed, -1, 1, dt);
        Tensor b = bias ? test::random_uniform(Shape{6}, ++seed, -1, 1, dt) : Tensor();
        Variable y = dense(Variable(x), Variable(w), bias ? Variable(b) : Variable());
        REQUIRE(y.shape() == xs.with(-1, 6));
        const double tol = dt == DType::f32 ? 1e-5 : 1e-13;
        ASN_REQUIRE_CLOSE(y.value(),
                          Tensor::from_vector<double>(y.shape(), test::oracle::dense(x, w, b)), tol,
                          tol);
      }
    }
  }
  // Cin = 0: the output is the bias alone.
  Tensor b = Tensor::from_vector<double>(Shape{2}, {1.5, -2});
  Variable y0 = dense(Variable(Tensor::zeros(Shape{3, 0}, DType::f64)),
                      Variable(Tensor::zeros(Shape{2, 0}, DType::f64)), Variable(b));
  REQUIRE(y0.value().to_vector<double>() == std::vector<double>{1.5, -2, 1.5, -2, 1.5, -2});
}

TEST_CASE("dense: gradcheck of input, weight and bias (f64)", "[dense]") {
  Tensor x = test::random_uniform(Shape{2, 3, 5, 4}, 11);
  Tensor w = test::random_uniform(Shape{3, 4}, 12);
  Tensor b = test::random_uniform(Shape{3}, 13);
  GradcheckResult r =
      gradcheck([](const std::vector<Variable>& v) { return dense(v[0], v[1], v[2]); }, {x, w, b});
  INFO(r.report);
  REQUIRE(r.ok);
  GradcheckResult nb =
      gradcheck([](const std::vector<Variable>& v) { return dense(v[0], v[1]); }, {x, w});
  INFO(nb.report);
  REQUIRE(nb.ok);
  // Only some inputs checked (the others do not require gradients).
  GradcheckOptions only_w;
  only_w.check = {false, true, false};
  GradcheckResult rw = gradcheck(
      [](const std::vector<Variable>& v) { return dense(v[0], v[1], v[2]); }, {x, w, b}, only_w);
  INFO(rw.report);
  REQUIRE(rw.ok);
}

TEST_CASE("dense: only the needed gradients are computed; f32 backward agrees with f64",
          "[dense]") {
  Tensor x64 = test::random_uniform(Shape{3, 5, 8}, 21);
  Tensor w64 = test::random_uniform(Shape{4, 8}, 22);
  Tensor b64 = test::random_uniform(Shape{4}, 23);
  Tensor g64 = test::random_uniform(Shape{3, 5, 4}, 24);
  tape().clear();
  Variable x(x64, false), w(w64, true), b(b64, false);
  backward(dense(x, w, b), g64);
  REQUIRE_FALSE(x.has_grad());
  REQUIRE_FALSE(b.has_grad());
  REQUIRE(w.has_grad());

  auto grads = [&](DType dt) {
    tape().clear();
    Variable xv(x64.to(dt), true), wv(w64.to(dt), true), bv(b64.to(dt), true);
    backward(dense(xv, wv, bv), g64.to(dt));
    return std::vector<Tensor>{xv.grad(), wv.grad(), bv.grad()};
  };
  const std::vector<Tensor> ref = grads(DType::f64);
  const std::vector<Tensor> f32 = grads(DType::f32);
  for (size_t i = 0; i < 3; ++i) ASN_REQUIRE_CLOSE(f32[i], ref[i], 1e-5, 1e-5);
  // db = column sums of the output gradient (by hand).
  Tensor db = Tensor::zeros(Shape{4}, DType::f64);
  const std::vector<double> g = g64.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) db.data<double>()[i % 4] += g[i];
  ASN_REQUIRE_CLOSE(ref[2], db, 1e-14, 1e-14);
}

TEST_CASE("dense: the bias gradient does not depend on the thread count", "[dense]") {
  // More rows than one block of the column sum.
  Tensor x = test::random_uniform(Shape{3000, 5}, 31, -1, 1, DType::f32);
  Tensor w = test::random_uniform(Shape{7, 5}, 32, -1, 1, DType::f32);
  Tensor b = test::random_uniform(Shape{7}, 33, -1, 1, DType::f32);
  Tensor g = test::random_uniform(Shape{3000, 7}, 34, -1, 1, DType::f32);
  auto db = [&](int threads) {
    const int before = num_threads();
    set_num_threads(threads);
    tape().clear();
    Variable bv(b, true);
    backward(dense(Variable(x), Variable(w), bv), g);
    set_num_threads(before);
    return bv.grad().to_vector<float>();
  };
  REQUIRE(db(1) == db(3));
}

TEST_CASE("dense: errors name the op and the shapes", "[dense]") {
  Variable x(Tensor::zeros(Shape{2, 3, 4}));
  Variable w(Tensor::zeros(Shape{5, 4}));
  Variable b(Tensor::zeros(Shape{5}));
  REQUIRE_THROWS_AS(dense(x, Variable(Tensor::zeros(Shape{5, 3})), b), ShapeError);
  REQUIRE_THROWS_WITH(dense(x, Variable(Tensor::zeros(Shape{5, 3})), b),
                      Catch::Contains("dense") && Catch::Contains("f32 (2, 3, 4)") &&
                          Catch::Contains("f32 (5, 3)") && Catch::Contains("(4 vs 3)"));
  REQUIRE_THROWS_WITH(dense(x, Variable(Tensor::zeros(Shape{5, 1, 1, 1, 4})), b),
                      Catch::Contains("dense: weight must have rank 2") &&
                          Catch::Contains("(5, 1, 1, 1, 4)") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(
      dense(x, w, Variable(Tensor::zeros(Shape{4}))),
      Catch::Contains("dense: bias") && Catch::Contains("(5,)") && Catch::Contains("f32 (4,)"));
  REQUIRE_THROWS_WITH(dense(x, w, Variable(Tensor::zeros(Shape{1, 5}))),
                      Catch::Contains("dense: bias") && Catch::Contains("(1, 5)"));
  REQUIRE_THROWS_AS(dense(x, Variable(Tensor::zeros(Shape{5, 4}, DType::f64)), b), TypeError);
  REQUIRE_THROWS_WITH(dense(x, Variable(Tensor::zeros(Shape{5, 4}, DType::f64)), b),
                      Catch::Contains("dense") && Catch::Contains("f64 (5, 4)") &&
                          Catch::Contains("f32 (2, 3, 4)"));
  REQUIRE_THROWS_WITH(dense(x, w, Variable(Tensor::zeros(Shape{5}, DType::f64))),
                      Catch::Contains("dense") && Catch::Contains("f64 (5,)"));
  REQUIRE_THROWS_WITH(dense(Variable(Tensor::zeros(Shape{2, 4}, DType::i32)),
                            Variable(Tensor::zeros(Shape{5, 4}, DType::i32))),
                      Catch::Contains("dense") && Catch::Contains("i32 (2, 4)"));
  REQUIRE_THROWS_WITH(dense(Variable(), w), Catch::Contains("dense: input is an undefined"));
  REQUIRE_THROWS_WITH(dense(x, Variable()), Catch::Contains("dense: weight is an undefined"));
}
