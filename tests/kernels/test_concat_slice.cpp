// concat / slice / reshape: forward against the naive oracle along several axes (f32, f64),
// slice round trip, gradcheck (f64), the zero-scatter of slice's backward, the reshape view,
// errors.
#include <catch2/catch.hpp>
#include <vector>

#include "autograd/functions/concat_slice.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "tests/oracles/concat_slice_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// Three tensors that agree on every axis of `base` except `axis`, where they have 2, 1 and 3.
std::vector<Tensor> three_along(const Shape& base, int axis, uint64_t seed, DType dt) {
  std::vector<Tensor> xs;
  for (int64_t n : {2, 1, 3})
    xs.push_back(test::random_uniform(base.with(axis, n), seed++, -1, 1, dt));
  return xs;
}

}  // namespace

TEST_CASE("concat: three tensors along axes 0, 3 and -1 match the oracle", "[concat_slice]") {
  const Shape base{2, 3, 4, 5, 3};
  for (DType dt : {DType::f64, DType::f32}) {
    for (int axis : {0, 3, -1, 1}) {
      INFO("axis " << axis << " " << dtype_name(dt));
      const int a = axis < 0 ? axis + base.rank() : axis;
      std::vector<Tensor> xs = three_along(base, a, 10 + a, dt);
      Variable y = concat({Variable(xs[0]), Variable(xs[1]), Variable(xs[2])}, axis);
      REQUIRE(y.shape() == base.with(a, 6));
      ASN_REQUIRE_CLOSE(y.value(),
                        Tensor::from_vector<double>(y.shape(), test::oracle::concat(xs, a)), 0, 0);
    }
  }
  // A single input is copied.
  Tensor one = test::random_uniform(Shape{4, 2}, 3);
  Variable c = concat({Variable(one)}, 1);
  REQUIRE_FALSE(c.value().shares_storage_with(one));
  ASN_REQUIRE_CLOSE(c.value(), one, 0, 0);
}

TEST_CASE("slice: forward matches the oracle and round-trips through concat", "[concat_slice]") {
  const Shape s{3, 4, 5, 2, 6};
  uint64_t seed = 40;
  for (DType dt : {DType::f64, DType::f32}) {
    for (int axis = 0; axis < s.rank(); ++axis) {
      INFO("axis " << axis << " " << dtype_name(dt));
      Tensor x = test::random_uniform(s, ++seed, -1, 1, dt);
      const int64_t n = s[axis];
      const int64_t k = n / 2;  // every axis has n >= 2: both parts are non-empty
      Variable a = slice(Variable(x), axis, 0, k);
      Variable b = slice(Variable(x), axis - s.rank(), k, n - k);  // negative axis
      ASN_REQUIRE_CLOSE(a.value(),
                        Tensor::from_vector<double>(a.shape(), test::oracle::slice(x, axis, 0, k)),
                        0, 0);
      Variable back = concat({a, b}, axis);
      REQUIRE(back.value().to_vector<double>() == x.to_vector<double>());
      // An inner window too.
      if (n >= 3) {
        Variable mid = slice(Variable(x), axis, 1, n - 2);
        ASN_REQUIRE_CLOSE(
            mid.value(),
            Tensor::from_vector<double>(mid.shape(), test::oracle::slice(x, axis, 1, n - 2)), 0, 0);
      }
    }
  }
  // Empty slice.
  Variable e = slice(Variable(test::random_uniform(Shape{2, 3}, 1)), 1, 3, 0);
  REQUIRE(e.shape() == Shape{2, 0});
}

TEST_CASE("concat / slice: backward (gradcheck and the zero scatter)", "[concat_slice]") {
  const Shape base{2, 3, 1, 4};
  for (int axis : {0, 2, -1}) {
    INFO("axis " << axis);
    const int a = axis < 0 ? axis + base.rank() : axis;
    std::vector<Tensor> xs = three_along(base, a, 60 + a, DType::f64);
    GradcheckResult r = gradcheck(
        [axis](const std::vector<Variable>& v) {
          return concat({v[0], v[1], v[2]}, axis);
        },
        xs);
    INFO(r.report);
    REQUIRE(r.ok);
    GradcheckResult rs = gradcheck(
        [axis](const std::vector<Variable>& v) { return slice(v[0], axis, 1, 2); }, {xs[2]});
    INFO(rs.report);
    REQUIRE(rs.ok);
  }
  // Only the inputs that need a gradient get one.
  tape().clear();
  Variable p(test::random_uniform(Shape{2, 2}, 1), true);
  Variable q(test::random_uniform(Shape{2, 3}, 2), false);
  backward(concat({p, q}, 1));
  REQUIRE(p.grad().to_vector<double>() == std::vector<double>(4, 1.0));
  REQUIRE_FALSE(q.has_grad());
  // Slice backward scatters into zeros.
  Variable x(Tensor::zeros(Shape{2, 4}, DType::f64), true);
  backward(slice(x, 1, 1, 2), Tensor::from_vector<double>(Shape{2, 2}, {1, 2, 3, 4}));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 1, 2, 0, 0, 3, 4, 0});
}

TEST_CASE("reshape: a view whose gradient is reshaped back", "[concat_slice]") {
  Tensor t = test::random_uniform(Shape{2, 3, 4}, 5);
  Variable x(t, true);
  Variable y = reshape(x, Shape{6, 4});
  REQUIRE(y.shape() == Shape{6, 4});
  REQUIRE(y.value().shares_storage_with(t));
  REQUIRE(reshape_infer(x, {-1, 2}).shape() == Shape{12, 2});
  REQUIRE(reshape_infer(x, {4, -1, 1}).shape() == Shape{4, 6, 1});
  GradcheckResult r = gradcheck(
      [](const std::vector<Variable>& v) {
        // Slicing after the reshape makes the gradient non-uniform.
        return slice(reshape_infer(v[0], {6, -1}), 0, 1, 4);
      },
      {t});
  INFO(r.report);
  REQUIRE(r.ok);
  // The tape copies before accumulating, so two reshapes of one variable add up correctly.
  tape().clear();
  Variable z = concat({reshape(x, Shape{24}), reshape(x, Shape{24})}, 0);
  backward(z);
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>(24, 2.0));
}

TEST_CASE("concat / slice / reshape: errors name the op and every offending shape",
          "[concat_slice]") {
  Variable a(Tensor::zeros(Shape{2, 3, 4}));
  Variable b(Tensor::zeros(Shape{2, 5, 4}));
  Variable c(Tensor::zeros(Shape{2, 3, 7}));
  // Disagreeing on an axis other than the concatenation axis: every shape is listed.
  REQUIRE_THROWS_AS(concat({a, b, c}, 1), ShapeError);
  REQUIRE_THROWS_WITH(concat({a, b, c}, 1), Catch::Contains("concat") &&
                                                Catch::Contains("except 1") &&
                                                Catch::Contains("input 0 f32 (2, 3, 4) on cpu") &&
                                                Catch::Contains("input 1 f32 (2, 5, 4) on cpu") &&
                                                Catch::Contains("input 2 f32 (2, 3, 7) on cpu"));
  REQUIRE_THROWS_WITH(concat({a, c}, 1), Catch::Contains("concat") &&
                                             Catch::Contains("(2, 3, 4)") &&
                                             Catch::Contains("(2, 3, 7)"));
  REQUIRE_THROWS_WITH(
      concat({a, Variable(Tensor::zeros(Shape{2, 3}))}, 0),
      Catch::Contains("concat") && Catch::Contains("(2, 3, 4)") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(concat({a, b}, 3), Catch::Contains("concat: axis 3 is out of range") &&
                                             Catch::Contains("(2, 3, 4)") &&
                                             Catch::Contains("(2, 5, 4)"));
  REQUIRE_THROWS_WITH(concat({a, b}, -4), Catch::Contains("concat: axis -4"));
  REQUIRE_THROWS_AS(concat({a, Variable(Tensor::zeros(Shape{2, 3, 4}, DType::f64))}, 0), TypeError);
  REQUIRE_THROWS_WITH(concat({a, Variable(Tensor::zeros(Shape{2, 3, 4}, DType::f64))}, 0),
                      Catch::Contains("concat") && Catch::Contains("f64 (2, 3, 4)") &&
                          Catch::Contains("f32 (2, 3, 4)"));
  REQUIRE_THROWS_WITH(concat({Variable(Tensor::zeros(Shape{2}, DType::i32))}, 0),
                      Catch::Contains("concat") && Catch::Contains("i32 (2,)"));
  REQUIRE_THROWS_WITH(concat({}, 0), Catch::Contains("concat: no inputs"));
  REQUIRE_THROWS_WITH(
      concat({a, Variable()}, 0),
      Catch::Contains("concat: input 1 is an undefined") && Catch::Contains("(2, 3, 4)"));

  REQUIRE_THROWS_AS(slice(a, 1, 2, 2), ShapeError);
  REQUIRE_THROWS_WITH(slice(a, 1, 2, 2), Catch::Contains("slice: range [2, 4)") &&
                                             Catch::Contains("axis 1 (size 3)") &&
                                             Catch::Contains("f32 (2, 3, 4)"));
  REQUIRE_THROWS_WITH(slice(a, 0, -1, 1), Catch::Contains("slice") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(slice(a, 0, 0, -1), Catch::Contains("slice") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(slice(a, 3, 0, 1), Catch::Contains("slice: axis 3 is out of range") &&
                                             Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(slice(Variable(Tensor::zeros(Shape{4}, DType::u8)), 0, 0, 1),
                      Catch::Contains("slice") && Catch::Contains("u8 (4,)"));

  REQUIRE_THROWS_AS(reshape(a, Shape{5, 5}), ShapeError);
  REQUIRE_THROWS_WITH(reshape(a, Shape{5, 5}), Catch::Contains("reshape") &&
                                                   Catch::Contains("f32 (2, 3, 4)") &&
                                                   Catch::Contains("(5, 5)"));
  REQUIRE_THROWS_WITH(reshape_infer(a, {-1, 5}),
                      Catch::Contains("reshape") && Catch::Contains("(2, 3, 4)"));
  REQUIRE_THROWS_WITH(reshape_infer(a, {-1, -1}),
                      Catch::Contains("reshape") && Catch::Contains("more than one -1"));
}
