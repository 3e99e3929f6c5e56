// sum / mean over axis sets and min / max reductions: forward against the naive oracle (f32, f64,
// keepdims, non-adjacent axes, size-1 axes, long reductions that span several blocks), thread-count
// independence, gradcheck (f64), TF's equal split of the min/max gradient among ties, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/functions/reduce.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "tests/oracles/reduce_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

Tensor as_tensor(const test::oracle::ReduceResult& r) {
  return Tensor::from_vector<double>(r.shape, r.y);
}

struct AxesCase {
  Shape in;
  std::vector<int> axes;  // non-negative for the oracle
};

std::vector<AxesCase> axes_cases() {
  const Shape s{2, 3, 4, 5, 6};
  return {
      {s, {2, 3}},                     // per-frame spatial mean (N, T, H, W, C) -> (N, T, C)
      {s, {1}},                        // temporal
      {s, {0, 1, 2, 3, 4}},            // global
      {s, {0, 2, 4}},                  // non-adjacent, innermost reduced
      {s, {4}},                        // channels
      {s, {0}},                        // outermost only
      {s, {1, 3}},                     // non-adjacent, innermost kept
      {Shape{2, 1, 3, 1, 4}, {0, 2}},  // size-1 kept axes between reduced ones
      {Shape{2, 1, 3, 1, 4}, {1, 3}},  // reducing size-1 axes only
      {Shape{7}, {0}},
      {Shape{3, 1}, {1}},
  };
}

}  // namespace

TEST_CASE("reduce: sum and mean over axis sets match the oracle", "[reduce]") {
  uint64_t seed = 10;
  for (const AxesCase& c : axes_cases()) {
    for (DType dt : {DType::f64, DType::f32}) {
      for (bool keepdims : {false, true}) {
        INFO(c.in.str() << " axes " << c.axes.size() << " first " << c.axes[0] << " keepdims "
                        << keepdims << " " << dtype_name(dt));
        Tensor x = test::random_uniform(c.in, ++seed, -1, 1, dt);
        const double tol = dt == DType::f32 ? 2e-7 : 1e-14;
        Variable s = sum(Variable(x), c.axes, keepdims);
        ASN_REQUIRE_CLOSE(s.value(), as_tensor(test::oracle::sum_axes(x, c.axes, keepdims, false)),
                          tol, tol);
        Variable m = mean(Variable(x), c.axes, keepdims);
        ASN_REQUIRE_CLOSE(m.value(), as_tensor(test::oracle::sum_axes(x, c.axes, keepdims, true)),
                          tol, tol);
      }
    }
  }
}

TEST_CASE("reduce: result shapes with and without keepdims; negative axes", "[reduce]") {
  Variable x(Tensor::zeros(Shape{2, 3, 4, 5, 6}));
  REQUIRE(mean(x, {2, 3}).shape() == Shape{2, 3, 6});
  REQUIRE(mean(x, {2, 3}, true).shape() == Shape{2, 3, 1, 1, 6});
  REQUIRE(mean(x, {-3, -2}).shape() == Shape{2, 3, 6});
  REQUIRE(sum(x, {1}).shape() == Shape{2, 4, 5, 6});
  REQUIRE(sum(x, {0, 1, 2, 3, 4}).shape() == Shape{1});
  REQUIRE(sum(x, {4, 0, 2, 1, 3}, true).shape() == Shape{1, 1, 1, 1, 1});
  REQUIRE(reduce_max(x).shape() == Shape{1});
  REQUIRE(reduce_min(x, -1).shape() == Shape{2, 3, 4, 5});
  REQUIRE(reduce_max(x, 1, true).shape() == Shape{2, 1, 4, 5, 6});
  // Axis order does not matter.
  Tensor r = test::random_uniform(Shape{3, 4, 5}, 3);
  ASN_REQUIRE_CLOSE(sum(Variable(r), {2, 0}).value(), sum(Variable(r), {0, -1}).value(), 0, 0);
}

TEST_CASE("reduce: long reductions are accurate in f32 and independent of the thread count",
          "[reduce]") {
  struct Long {
    Shape in;
    std::vector<int> axes;
  };
  // Several blocks per output: innermost reduced (global, last axis), innermost kept (axis 0).
  const std::vector<Long> cases = {{Shape{200003}, {0}},
                                   {Shape{3, 70001}, {1}},
                                   {Shape{5000, 3, 20}, {0}},
                                   {Shape{40, 300, 7}, {0, 1}}};
  uint64_t seed = 70;
  for (const Long& c : cases) {
    INFO(c.in.str());
    // A large common offset makes naive f32 accumulation lose digits.
    Tensor x = test::random_uniform(c.in, ++seed, 99, 101, DType::f32);
    const int before = num_threads();
    set_num_threads(1);
    Tensor one = mean(Variable(x), c.axes).value();
    Tensor s1 = sum(Variable(x), c.axes).value();
    set_num_threads(3);
    Tensor three = mean(Variable(x), c.axes).value();
    Tensor s3 = sum(Variable(x), c.axes).value();
    set_num_threads(before);
    REQUIRE(one.to_vector<float>() == three.to_vector<float>());
    REQUIRE(s1.to_vector<float>() == s3.to_vector<float>());
    // Within f32 rounding of the exact (double) result.
    ASN_REQUIRE_CLOSE(one, as_tensor(test::oracle::sum_axes(x, c.axes, false, true)), 1e-7, 0);
    ASN_REQUIRE_CLOSE(s1, as_tensor(test::oracle::sum_axes(x, c.axes, false, false)), 1e-7, 0);
  }
}

TEST_CASE("reduce: backward broadcasts over long runs", "[reduce]") {
  // Runs longer than one work piece, reduced (mean over a long last axis) and kept (sum over the
  // first axis of a wide tensor).
  tape().clear();
  Variable a(test::random_uniform(Shape{3, 70001}, 1), true);
  backward(mean(a, {1}), Tensor::from_vector<double>(Shape{3}, {70001, 2 * 70001.0, -70001}));
  std::vector<double> ea(3 * 70001);
  for (size_t i = 0; i < ea.size(); ++i) ea[i] = i < 70001 ? 1 : i < 140002 ? 2 : -1;
  ASN_REQUIRE_CLOSE(a.grad(), Tensor::from_vector<double>(Shape{3, 70001}, ea), 0, 0);
  Variable b(test::random_uniform(Shape{3, 5000}, 2), true);
  Tensor g = test::random_uniform(Shape{1, 5000}, 3);
  backward(sum(b, {0}, true), g);
  const std::vector<double> gg = g.to_vector<double>();
  std::vector<double> eb(3 * 5000);
  for (size_t i = 0; i < eb.size(); ++i) eb[i] = gg[i % 5000];
  ASN_REQUIRE_CLOSE(b.grad(), Tensor::from_vector<double>(Shape{3, 5000}, eb), 0, 0);
}

TEST_CASE("reduce: gradcheck of sum and mean (f64)", "[reduce]") {
  uint64_t seed = 90;
  for (const AxesCase& c : axes_cases()) {
    for (bool keepdims : {false, true}) {
      INFO(c.in.str() << " first axis " << c.axes[0] << " keepdims " << keepdims);
      // Keep the gradcheck small: the 5-D cases run the same axes on a smaller 5-D shape.
      Tensor x = test::random_uniform(c.in.numel() > 200 ? Shape{2, 3, 4, 1, 3} : c.in, ++seed);
      const std::vector<int> axes = c.axes;
      GradcheckResult rs =
          gradcheck([&](const std::vector<Variable>& v) { return sum(v[0], axes, keepdims); }, {x});
      INFO(rs.report);
      REQUIRE(rs.ok);
      GradcheckResult rm = gradcheck(
          [&](const std::vector<Variable>& v) { return mean(v[0], axes, keepdims); }, {x});
      INFO(rm.report);
      REQUIRE(rm.ok);
    }
  }
}

TEST_CASE("reduce: whole-tensor min and max", "[reduce]") {
  for (DType dt : {DType::f64, DType::f32}) {
    // Long enough for several partial chunks.
    Tensor x = test::random_uniform(Shape{3, 50001}, 5, -1, 1, dt);
    const std::vector<double> v = x.to_vector<double>();
    double mx = v[0], mn = v[0];
    for (double e : v) {
      mx = std::max(mx, e);
      mn = std::min(mn, e);
    }
    REQUIRE(reduce_max(Variable(x)).value().item() == mx);
    REQUIRE(reduce_min(Variable(x)).value().item() == mn);
  }
  // Gradcheck at distinct values (a unique extreme).
  Tensor d = test::random_distinct(Shape{2, 3, 4, 5}, 6, 0.01);
  for (bool is_max : {true, false}) {
    GradcheckResult r = gradcheck(
        [is_max](const std::vector<Variable>& v) {
          return is_max ? reduce_max(v[0]) : reduce_min(v[0]);
        },
        {d});
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("reduce: min and max along one axis match the oracle and pass gradcheck", "[reduce]") {
  const Shape s{3, 4, 5, 2};
  uint64_t seed = 20;
  for (int axis : {0, 1, 2, 3}) {
    for (bool keepdims : {false, true}) {
      for (bool is_max : {true, false}) {
        INFO("axis " << axis << " keepdims " << keepdims << " max " << is_max);
        Tensor x = test::random_distinct(s, ++seed, 0.01);
        Variable y = is_max ? reduce_max(Variable(x), axis, keepdims)
                            : reduce_min(Variable(x), axis, keepdims);
        ASN_REQUIRE_CLOSE(y.value(),
                          as_tensor(test::oracle::extreme_axis(x, axis, keepdims, is_max)), 0, 0);
        Tensor xf = x.to(DType::f32);
        Variable yf = is_max ? reduce_max(Variable(xf), axis - 4, keepdims)
                             : reduce_min(Variable(xf), axis - 4, keepdims);
        ASN_REQUIRE_CLOSE(yf.value(),
                          as_tensor(test::oracle::extreme_axis(xf, axis, keepdims, is_max)), 0, 0);
        GradcheckResult r = gradcheck(
            [=](const std::vector<Variable>& v) {
              return is_max ? reduce_max(v[0], axis, keepdims) : reduce_min(v[0], axis, keepdims);
            },
            {x});
        INFO(r.report);
        REQUIRE(r.ok);
      }
    }
  }
  // A long axis with a wide inner extent (several column slices per item).
  Tensor big = test::random_uniform(Shape{2, 37, 600}, 99);
  ASN_REQUIRE_CLOSE(reduce_max(Variable(big), 1).value(),
                    as_tensor(test::oracle::extreme_axis(big, 1, false, true)), 0, 0);
}

TEST_CASE("reduce: tied extremes share the gradient equally (TF semantics)", "[reduce]") {
  tape().clear();
  // Whole tensor: three maxima of 3 get a third each; two minima of 1 get half each.
  Variable x(Tensor::from_vector<double>(Shape{6}, {1, 3, 3, 2, 3, 1}), true);
  backward(reduce_max(x), Tensor::full(Shape{1}, 6.0, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 2, 2, 0, 2, 0});
  x.zero_grad();
  backward(reduce_min(x));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0.5, 0, 0, 0, 0, 0.5});

  // Along an axis, f32: x (2, 3, 2), axis 1. Column (0, :, 0) = (5, 5, 1): two maxima;
  // (0, :, 1) = (2, 7, 7); (1, :, 0) = (4, 4, 4): three; (1, :, 1) = (0, 9, 1): one.
  Variable a(Tensor::from_vector<float>(Shape{2, 3, 2}, {5, 2, 5, 7, 1, 7, 4, 0, 4, 9, 4, 1}),
             true);
  Variable m = reduce_max(a, 1);
  REQUIRE(m.value().to_vector<float>() == std::vector<float>{5, 7, 4, 9});
  backward(m, Tensor::from_vector<float>(Shape{2, 2}, {2, 4, 3, 8}));
  REQUIRE(a.grad().to_vector<float>() == std::vector<float>{1, 0, 1, 2, 0, 2, 1, 0, 1, 8, 1, 0});

  // reduce_min along the last axis with keepdims.
  Variable b(Tensor::from_vector<double>(Shape{2, 3}, {2, 2, 5, -1, 0, -1}), true);
  Variable n = reduce_min(b, -1, true);
  REQUIRE(n.shape() == Shape{2, 1});
  REQUIRE(n.value().to_vector<double>() == std::vector<double>{2, -1});
  backward(n);
  REQUIRE(b.grad().to_vector<double>() == std::vector<double>{0.5, 0.5, 0, 0.5, 0, 0.5});
}

TEST_CASE("reduce: NaN propagates through min and max", "[reduce]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = Tensor::from_vector<double>(Shape{2, 3}, {1, nan, 3, 4, 5, 6});
  REQUIRE(std::isnan(reduce_max(Variable(x)).value().item()));
  REQUIRE(std::isnan(reduce_min(Variable(x)).value().item()));
  const std::vector<double> r = reduce_max(Variable(x), 1).value().to_vector<double>();
  REQUIRE(std::isnan(r[0]));
  REQUIRE(r[1] == 6);
}

TEST_CASE("reduce: errors name the op and the input", "[reduce]") {
  Variable x(Tensor::zeros(Shape{2, 3, 4}));
  REQUIRE_THROWS_AS(sum(x, {3}), ShapeError);
  REQUIRE_THROWS_WITH(sum(x, {3}), Catch::Contains("sum: axis 3 is out of range") &&
                                       Catch::Contains("f32 (2, 3, 4)"));
  REQUIRE_THROWS_WITH(mean(x, {-4}),
                      Catch::Contains("mean: axis -4") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(
      mean(x, {1, -2}),
      Catch::Contains("mean: axis -2 is given twice in (1, -2)") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(sum(x, {}), Catch::Contains("sum: no axes") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(reduce_max(x, 3),
                      Catch::Contains("reduce_max: axis 3") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(reduce_min(x, -4),
                      Catch::Contains("reduce_min: axis -4") && Catch::Contains("(2, 3, 4)"));
  Variable xi(Tensor::zeros(Shape{2, 3}, DType::i32));
  REQUIRE_THROWS_AS(sum(xi, {0}), TypeError);
  REQUIRE_THROWS_WITH(sum(xi, {0}), Catch::Contains("sum") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(mean(xi, {0}), Catch::Contains("mean") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(reduce_max(xi),
                      Catch::Contains("reduce_max") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(reduce_min(xi, 0),
                      Catch::Contains("reduce_min") && Catch::Contains("i32 (2, 3)"));
  Variable e(Tensor::zeros(Shape{2, 0, 3}));
  REQUIRE_THROWS_WITH(mean(e, {1}), Catch::Contains("mean") && Catch::Contains("(2, 0, 3)"));
  REQUIRE_THROWS_WITH(reduce_max(e), Catch::Contains("reduce_max") && Catch::Contains("(2, 0, 3)"));
  REQUIRE_THROWS_WITH(reduce_min(e, 1),
                      Catch::Contains("reduce_min") && Catch::Contains("(2, 0, 3)"));
  // A sum over nothing is zero.
  REQUIRE(sum(e, {1}).value().to_vector<float>() == std::vector<float>(6, 0.0f));
}
