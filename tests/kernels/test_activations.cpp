// ReLU, sigmoid and softmax: forward against the double oracle and hand values (f32 and f64),
// gradients by gradcheck (f64) at odd sizes and T = 1, f32 backward against f64, error messages.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/functions/activations.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "tests/oracles/activations_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// Runs f on x (as a leaf requiring a gradient), backpropagates dy, returns (y, dx).
std::pair<Tensor, Tensor> run(Variable (*f)(const Variable&), const Tensor& x, const Tensor& dy) {
  tape().clear();
  Variable xv(x.clone(), true, "x");
  Variable y = f(xv);
  backward(y, dy);
  return {y.value(), xv.grad()};
}

}  // namespace

TEST_CASE("activations: forward matches the double oracle in f64 and f32", "[activations]") {
  const Shape shape{2, 3, 5, 3, 4};
  for (DType dt : {DType::f64, DType::f32}) {
    const double rtol = dt == DType::f64 ? 1e-14 : 1e-6;
    Tensor x = test::random_uniform(shape, 7, -6, 6, dt);
    ASN_REQUIRE_CLOSE(relu(Variable(x)).value().to(DType::f64), oracle::relu(x), 0, 0);
    ASN_REQUIRE_CLOSE(sigmoid(Variable(x)).value().to(DType::f64), oracle::sigmoid(x), rtol, 1e-30);
    ASN_REQUIRE_CLOSE(softmax(Variable(x)).value().to(DType::f64), oracle::softmax(x), rtol, 1e-30);
  }
}

TEST_CASE("activations: hand-computed values", "[activations]") {
  Tensor x = Tensor::from_vector<double>(Shape{5}, {-2, -0.5, 0, 0.5, 3});
  REQUIRE(relu(Variable(x)).value().to_vector<double>() == std::vector<double>{0, 0, 0, 0.5, 3});
  std::vector<double> s = sigmoid(Variable(x)).value().to_vector<double>();
  REQUIRE(s[2] == 0.5);
  REQUIRE(s[1] == Approx(0.37754066879814541).epsilon(1e-15));
  REQUIRE(s[3] + s[1] == Approx(1.0).epsilon(1e-15));
  // softmax([1, 2, 3]) = e^k / (e + e^2 + e^3).
  Tensor r = Tensor::from_vector<double>(Shape{1, 3}, {1, 2, 3});
  std::vector<double> p = softmax(Variable(r)).value().to_vector<double>();
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (int k = 0; k < 3; ++k)
    REQUIRE(p[static_cast<size_t>(k)] == Approx(std::exp(k + 1.0) / z).epsilon(1e-14));
}

TEST_CASE("activations: sigmoid and softmax stay finite for large |x|", "[activations]") {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = Tensor::from_vector<double>(Shape{4}, {-1000, -100, 100, 1000}).to(dt);
    std::vector<double> s = sigmoid(Variable(x)).value().to_vector<double>();
    REQUIRE(s[0] == 0.0);
    REQUIRE(s[1] >= 0.0);
    REQUIRE(s[1] < 1e-40);
    REQUIRE(s[2] == 1.0);
    REQUIRE(s[3] == 1.0);
    // Rows shifted by a huge constant give the same softmax as the unshifted row.
    Tensor big =
        Tensor::from_vector<double>(Shape{2, 3}, {1000, 1001, 1002, -1000, -999, -998}).to(dt);
    Tensor small = Tensor::from_vector<double>(Shape{2, 3}, {0, 1, 2, 0, 1, 2}).to(dt);
    ASN_REQUIRE_CLOSE(softmax(Variable(big)).value().to(DType::f64),
                      softmax(Variable(small)).value().to(DType::f64), 1e-6, 0);
  }
}

TEST_CASE("activations: gradcheck relu, sigmoid, softmax (f64)", "[activations]") {
  // Odd sizes, T = 1, and the (1,) / (n,) logit shapes of edge weights.
  for (const Shape& shape : {Shape{2, 3, 5, 3, 4}, Shape{3, 1, 3, 5, 2}, Shape{1}, Shape{7}}) {
    INFO(shape.str());
    Tensor away = test::random_away_from_zero(shape, 21, 0.05, 3.0);
    GradcheckResult r =
        gradcheck([](const std::vector<Variable>& v) { return relu(v[0]); }, {away});
    INFO(r.report);
    REQUIRE(r.ok);
    Tensor x = test::random_uniform(shape, 22, -4, 4);
    r = gradcheck([](const std::vector<Variable>& v) { return sigmoid(v[0]); }, {x});
    INFO(r.report);
    REQUIRE(r.ok);
    r = gradcheck([](const std::vector<Variable>& v) { return softmax(v[0]); }, {x});
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("activations: softmax over a single column is 1 with zero gradient", "[activations]") {
  Tensor x = test::random_uniform(Shape{4, 1}, 3);
  Tensor dy = test::random_uniform(Shape{4, 1}, 4);
  auto [y, dx] = run(softmax, x, dy);
  REQUIRE(y.to_vector<double>() == std::vector<double>(4, 1.0));
  REQUIRE(dx.to_vector<double>() == std::vector<double>(4, 0.0));
}

TEST_CASE("activations: f32 backward agrees with f64", "[activations]") {
  const Shape shape{2, 4, 7, 7, 33};
  Tensor x = test::random_away_from_zero(shape, 31, 0.01, 5.0);
  Tensor dy = test::random_uniform(shape, 32);
  for (auto f : {&relu, &sigmoid, &softmax}) {
    auto [y64, dx64] = run(f, x, dy);
    auto [y32, dx32] = run(f, x.to(DType::f32), dy.to(DType::f32));
    ASN_REQUIRE_CLOSE(y32.to(DType::f64), y64, 1e-6, 1e-7);
    ASN_REQUIRE_CLOSE(dx32.to(DType::f64), dx64, 1e-5, 1e-7);
  }
}

TEST_CASE("activations: errors name the op and the tensor", "[activations]") {
  Variable ints(Tensor::zeros(Shape{2, 3}, DType::i32));
  REQUIRE_THROWS_WITH(relu(ints),
                      Catch::Contains("relu: x must be f32 or f64") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(sigmoid(ints), Catch::Contains("sigmoid:") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(softmax(ints), Catch::Contains("softmax:") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(softmax(Variable(Tensor::zeros(Shape{3, 0}, DType::f32))),
                      Catch::Contains("softmax:") && Catch::Contains("(3, 0)"));
  REQUIRE_THROWS_WITH(relu(Variable()), Catch::Contains("relu: x is an undefined Variable"));
}
