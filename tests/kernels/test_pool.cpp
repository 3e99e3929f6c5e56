// max_pool3d / avg_pool3d: forward against the naive oracle over a table of geometries (TF SAME
// asymmetric pads, VALID, stride > kernel, temporal pooling, T = 1, odd sizes), the avg divisor and
// the max tie rule by hand, gradients by gradcheck (f64, distinct inputs), errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "autograd/functions/pool.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "kernels/pool/max_pool3d.h"
#include "tests/oracles/pool_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;
using kernels::AxisPad;
using kernels::Pool3dParams;

namespace {

struct PoolCase {
  std::string name;
  Shape in;
  Pool3dParams params;
  Shape expected_out;
};

Pool3dParams same(const Shape& in, std::array<int64_t, 3> k, std::array<int64_t, 3> s) {
  return Pool3dParams::same(k, s, {in[1], in[2], in[3]});
}

std::vector<PoolCase> pool_cases() {
  std::vector<PoolCase> cs;
  auto add_same = [&](const std::string& name, Shape in, std::array<int64_t, 3> k,
                      std::array<int64_t, 3> s, Shape out) {
    cs.push_back({name, in, same(in, k, s), out});
  };
  add_same("3x3/2 SAME on 7 (pad 1/1)", Shape{2, 1, 7, 7, 3}, {1, 3, 3}, {1, 2, 2},
           Shape{2, 1, 4, 4, 3});
  add_same("3x3/2 SAME on 8 (pad 0/1)", Shape{1, 2, 8, 8, 2}, {1, 3, 3}, {1, 2, 2},
           Shape{1, 2, 4, 4, 2});
  add_same("2x2/2 SAME on 7 (pad 0/1)", Shape{2, 3, 7, 7, 3}, {1, 2, 2}, {1, 2, 2},
           Shape{2, 3, 4, 4, 3});
  add_same("4x4/4 SAME on 9 (pad 1/2)", Shape{1, 2, 9, 9, 4}, {1, 4, 4}, {1, 4, 4},
           Shape{1, 2, 3, 3, 4});
  add_same("resize pool 3x3/3 SAME on 7x8", Shape{1, 1, 7, 8, 5}, {1, 3, 3}, {1, 3, 3},
           Shape{1, 1, 3, 3, 5});
  add_same("stride > kernel SAME", Shape{1, 1, 9, 8, 2}, {1, 2, 2}, {1, 3, 3},
           Shape{1, 1, 3, 3, 2});
  add_same("temporal 3x2x2 / 2x2x1 SAME", Shape{2, 5, 6, 5, 3}, {3, 2, 2}, {2, 2, 1},
           Shape{2, 3, 3, 5, 3});
  add_same("temporal only 2/2 SAME, odd T", Shape{1, 5, 3, 3, 1}, {2, 1, 1}, {2, 1, 1},
           Shape{1, 3, 3, 3, 1});
  add_same("T = 1, 1x1 grid, C = 1", Shape{3, 1, 1, 1, 1}, {1, 3, 3}, {1, 2, 2},
           Shape{3, 1, 1, 1, 1});
  cs.push_back({"stride > kernel VALID", Shape{1, 1, 9, 8, 2},
                Pool3dParams::valid({1, 2, 2}, {1, 3, 3}), Shape{1, 1, 3, 3, 2}});
  cs.push_back({"temporal VALID 2x1x1", Shape{1, 4, 3, 3, 2},
                Pool3dParams::valid({2, 1, 1}, {2, 1, 1}), Shape{1, 2, 3, 3, 2}});
  Pool3dParams explicit_pads = Pool3dParams::valid({2, 3, 3}, {1, 2, 1});
  explicit_pads.pad[0] = AxisPad{1, 0};
  explicit_pads.pad[1] = AxisPad{2, 1};
  explicit_pads.pad[2] = AxisPad{0, 2};
  cs.push_back(
      {"explicit asymmetric pads", Shape{2, 3, 5, 4, 3}, explicit_pads, Shape{2, 3, 3, 4, 3}});
  return cs;
}

Tensor oracle_tensor(const test::oracle::PoolResult& r) {
  return Tensor::from_vector<double>(r.shape, r.y);
}

}  // namespace

TEST_CASE("pool: SAME helper reproduces the TF paddings", "[pool]") {
  Pool3dParams p = Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {4, 8, 7});
  REQUIRE(p.pad[0].before == 0);
  REQUIRE(p.pad[0].after == 0);
  REQUIRE(p.pad[1].before == 0);  // 3x3/2 on 8: 0 / 1
  REQUIRE(p.pad[1].after == 1);
  REQUIRE(p.pad[2].before == 1);  // 3x3/2 on 7: 1 / 1
  REQUIRE(p.pad[2].after == 1);
  p = Pool3dParams::same({1, 4, 2}, {1, 4, 2}, {1, 9, 7});
  REQUIRE(p.pad[1].before == 1);  // 4x4/4 on 9: 1 / 2
  REQUIRE(p.pad[1].after == 2);
  REQUIRE(p.pad[2].before == 0);  // 2x2/2 on 7: 0 / 1
  REQUIRE(p.pad[2].after == 1);
  REQUIRE(p.str() == "kernel (1, 4, 2) stride (1, 4, 2) pad (0/0, 1/2, 0/1)");
}

TEST_CASE("pool: max and avg forward match the naive oracle (f32 and f64)", "[pool]") {
  uint64_t seed = 100;
  for (const PoolCase& c : pool_cases()) {
    for (DType dt : {DType::f64, DType::f32}) {
      INFO(c.name << " " << dtype_name(dt) << " " << c.params.str());
      Tensor x = test::random_uniform(c.in, ++seed, -2, 2, dt);
      const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
      Variable ym = max_pool3d(Variable(x), c.params);
      REQUIRE(ym.shape() == c.expected_out);
      // The oracle sees the same (possibly f32-rounded) values, so the max is exact.
      ASN_REQUIRE_CLOSE(ym.value(), oracle_tensor(test::oracle::pool3d(x, c.params, true)), 0, 0);
      Variable ya = avg_pool3d(Variable(x), c.params);
      REQUIRE(ya.shape() == c.expected_out);
      ASN_REQUIRE_CLOSE(ya.value(), oracle_tensor(test::oracle::pool3d(x, c.params, false)), tol,
                        tol);
    }
  }
}

TEST_CASE("pool: max-pool argmax matches the oracle's first maximum", "[pool]") {
  uint64_t seed = 300;
  for (const PoolCase& c : pool_cases()) {
    INFO(c.name);
    // Few distinct values: many ties inside windows.
    Tensor x = test::random_uniform(c.in, ++seed, 0, 3);
    double* p = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<double>(static_cast<int>(p[i]));
    const kernels::Pool3dGeometry g = kernels::make_pool3d_geometry("test", x, c.params);
    Tensor y = Tensor::empty(kernels::pool3d_output_shape(g), DType::f64);
    Tensor am = Tensor::empty(y.shape(), DType::i32);
    kernels::max_pool3d_forward_cpu<double>(x.data<double>(), g, y.data<double>(),
                                            am.data<int32_t>());
    const test::oracle::PoolResult r = test::oracle::pool3d(x, c.params, true);
    const std::vector<int32_t> got = am.to_vector<int32_t>();
    for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == r.argmax[i]);
  }
}

TEST_CASE("pool: avg divisor leaves the padding out (by hand)", "[pool]") {
  // 3x3 input 1..9, 2x2/2 SAME: pad 0/1 on H and W, out 2x2.
  Tensor x = Tensor::from_vector<double>(Shape{1, 1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Pool3dParams p = Pool3dParams::same({1, 2, 2}, {1, 2, 2}, {1, 3, 3});
  Variable y = avg_pool3d(Variable(x), p);
  // (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1
  REQUIRE(y.value().to_vector<double>() == std::vector<double>{3, 4.5, 7.5, 9});
  // 3x3/2 SAME on 4: pad 0/1, the second window covers rows/cols 2..3 only.
  Tensor x4 = Tensor::full(Shape{1, 1, 4, 4, 2}, 2.0, DType::f64);
  x4.data<double>()[(3 * 4 + 3) * 2 + 1] = 6;  // (h 3, w 3, c 1)
  Variable y4 = avg_pool3d(Variable(x4), Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 4, 4}));
  // Output (1,1,c1): window rows 2..3, cols 2..3 -> 4 real elements: (2 + 2 + 2 + 6) / 4 = 3.
  REQUIRE(y4.value().to_vector<double>() == std::vector<double>{2, 2, 2, 2, 2, 2, 2, 3});

  // Backward: each output spreads its gradient over its real positions only.
  tape().clear();
  Variable xv(x, true);
  backward(avg_pool3d(xv, p));
  REQUIRE(xv.grad().to_vector<double>() ==
          std::vector<double>{0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1});
}

TEST_CASE("pool: padding never wins the max", "[pool]") {
  // All values negative: a zero-padded pool would return 0 at the SAME border.
  Tensor x = test::random_uniform(Shape{1, 1, 8, 8, 2}, 7, -3, -1);
  Variable y = max_pool3d(Variable(x), Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 8, 8}));
  for (double v : y.value().to_vector<double>()) REQUIRE(v < -1 + 1e-12);
  ASN_REQUIRE_CLOSE(y.value(),
                    oracle_tensor(test::oracle::pool3d(
                        x, Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 8, 8}), true)),
                    0, 0);
}

TEST_CASE("pool: max-pool ties route the gradient to the first element in scan order", "[pool]") {
  tape().clear();
  // All four equal: the gradient goes to (h 0, w 0) only.
  Variable a(Tensor::full(Shape{1, 1, 2, 2, 1}, 5.0, DType::f64), true);
  Variable ya = max_pool3d(a, Pool3dParams::valid({1, 2, 2}, {1, 2, 2}));
  backward(ya, Tensor::full(Shape{1, 1, 1, 1, 1}, 3.0, DType::f64));
  REQUIRE(a.grad().to_vector<double>() == std::vector<double>{3, 0, 0, 0});

  // Tie between positions 1 and 2 (w before h): the first in (h, w) order, position 1.
  Variable b(Tensor::from_vector<double>(Shape{1, 1, 2, 2, 1}, {1, 7, 7, 3}), true);
  backward(max_pool3d(b, Pool3dParams::valid({1, 2, 2}, {1, 2, 2})));
  REQUIRE(b.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 0});

  // Temporal: t comes first in the scan. x[t0] = (4, 9), x[t1] = (9, 2) along w.
  Variable c(Tensor::from_vector<double>(Shape{1, 2, 1, 2, 1}, {4, 9, 9, 2}), true);
  backward(max_pool3d(c, Pool3dParams::valid({2, 1, 2}, {2, 1, 2})));
  REQUIRE(c.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 0});

  // Overlapping windows (3x3/2 SAME on 3x3, pad 1/1) with a single maximum: it collects the
  // gradient of every window it wins, per channel independently.
  std::vector<double> v(9 * 2, 0.0);
  v[4 * 2 + 0] = 10;  // centre, channel 0
  v[0 * 2 + 1] = 10;  // corner, channel 1
  Variable d(Tensor::from_vector<double>(Shape{1, 1, 3, 3, 2}, v), true);
  Variable yd = max_pool3d(d, Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 3, 3}));
  REQUIRE(yd.shape() == Shape{1, 1, 2, 2, 2});
  backward(yd);
  // Windows (pad 1/1): rows/cols [0, 2) and [1, 3). Channel 0: the centre wins all four. Channel 1:
  // the corner wins window (0, 0); the other three windows hold only zeros, a tie that goes to
  // each window's first element: (0, 1), (1, 0), (1, 1).
  //                                                 pos:  0     1     2     3     4     5..8
  REQUIRE(d.grad().to_vector<double>() ==
          std::vector<double>{0, 1, 0, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("pool: gradcheck of max and avg pooling (f64)", "[pool]") {
  uint64_t seed = 500;
  for (const PoolCase& c : pool_cases()) {
    INFO(c.name << " " << c.params.str());
    // Distinct values: no ties, so the max is differentiable at the point.
    Tensor x = test::random_distinct(c.in, ++seed, 0.01);
    const Pool3dParams p = c.params;
    GradcheckResult rm =
        gradcheck([p](const std::vector<Variable>& v) { return max_pool3d(v[0], p); }, {x});
    INFO(rm.report);
    REQUIRE(rm.ok);
    GradcheckResult ra =
        gradcheck([p](const std::vector<Variable>& v) { return avg_pool3d(v[0], p); }, {x});
    INFO(ra.report);
    REQUIRE(ra.ok);
  }
}

TEST_CASE("pool: f32 backward agrees with f64 and does not depend on the thread count", "[pool]") {
  const Shape in{2, 3, 9, 8, 5};
  const Pool3dParams p = Pool3dParams::same({2, 3, 3}, {1, 2, 2}, {in[1], in[2], in[3]});
  Tensor x64 = test::random_distinct(in, 41, 0.01);
  Tensor g64 = test::random_uniform(Shape{2, 3, 5, 4, 5}, 42);
  auto grads = [&](DType dt, int threads, bool is_max) {
    const int before = num_threads();
    set_num_threads(threads);
    tape().clear();
    Variable x(x64.to(dt), true);
    Variable y = is_max ? max_pool3d(x, p) : avg_pool3d(x, p);
    backward(y, g64.to(dt));
    set_num_threads(before);
    return x.grad();
  };
  for (bool is_max : {true, false}) {
    INFO((is_max ? "max" : "avg"));
    Tensor ref = grads(DType::f64, 1, is_max);
    Tensor a = grads(DType::f32, 1, is_max);
    Tensor b = grads(DType::f32, 3, is_max);
    ASN_REQUIRE_CLOSE(a, ref, 1e-5, 1e-6);
    REQUIRE(a.to_vector<float>() == b.to_vector<float>());
  }
}

TEST_CASE("pool: no argmax is kept when no gradient is needed", "[pool]") {
  tape().clear();
  Tensor x = test::random_uniform(Shape{1, 1, 5, 5, 2}, 3);
  Variable y = max_pool3d(Variable(x, false), Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 5, 5}));
  REQUIRE_FALSE(y.requires_grad());
  REQUIRE(tape().size() == 0);
  {
    NoGradGuard guard;
    Variable z = max_pool3d(Variable(x, true), Pool3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 5, 5}));
    REQUIRE(tape().size() == 0);
    ASN_REQUIRE_CLOSE(z.value(), y.value(), 0, 0);
  }
}

TEST_CASE("pool: errors name the op, the input and the parameters", "[pool]") {
  const Pool3dParams p = Pool3dParams::valid({1, 2, 2}, {1, 2, 2});
  // Wrong rank.
  Variable x4(Tensor::zeros(Shape{2, 7, 7, 3}));
  REQUIRE_THROWS_AS(max_pool3d(x4, p), ShapeError);
  REQUIRE_THROWS_WITH(max_pool3d(x4, p), Catch::Contains("max_pool3d") &&
                                             Catch::Contains("rank 5") &&
                                             Catch::Contains("f32 (2, 7, 7, 3)"));
  REQUIRE_THROWS_WITH(avg_pool3d(x4, p),
                      Catch::Contains("avg_pool3d") && Catch::Contains("(2, 7, 7, 3)"));
  // Wrong dtype.
  Variable xi(Tensor::zeros(Shape{1, 1, 4, 4, 2}, DType::i32));
  REQUIRE_THROWS_AS(max_pool3d(xi, p), TypeError);
  REQUIRE_THROWS_WITH(max_pool3d(xi, p),
                      Catch::Contains("max_pool3d") && Catch::Contains("i32 (1, 1, 4, 4, 2)"));
  REQUIRE_THROWS_WITH(avg_pool3d(xi, p), Catch::Contains("avg_pool3d") && Catch::Contains("i32"));
  // Bad kernel / stride / padding.
  Variable x(Tensor::zeros(Shape{1, 2, 4, 4, 2}));
  REQUIRE_THROWS_WITH(max_pool3d(x, Pool3dParams::valid({1, 0, 2}, {1, 1, 1})),
                      Catch::Contains("max_pool3d") && Catch::Contains("kernel (1, 0, 2)") &&
                          Catch::Contains("(1, 2, 4, 4, 2)"));
  REQUIRE_THROWS_WITH(avg_pool3d(x, Pool3dParams::valid({1, 2, 2}, {1, 2, 0})),
                      Catch::Contains("avg_pool3d") && Catch::Contains("stride (1, 2, 0)"));
  REQUIRE_THROWS_WITH(max_pool3d(x, Pool3dParams::same({1, 2, 2}, {0, 2, 2}, {2, 4, 4})),
                      Catch::Contains("max_pool3d") && Catch::Contains("stride (0, 2, 2)"));
  // The window does not fit (VALID kernel larger than the input).
  REQUIRE_THROWS_WITH(max_pool3d(x, Pool3dParams::valid({3, 1, 1}, {1, 1, 1})),
                      Catch::Contains("max_pool3d") && Catch::Contains("axis T") &&
                          Catch::Contains("(1, 2, 4, 4, 2)"));
  // A window entirely in the padding (pad before >= kernel; also a far too long pad after).
  Pool3dParams bad = Pool3dParams::valid({1, 2, 2}, {1, 2, 2});
  bad.pad[1] = AxisPad{2, 0};
  REQUIRE_THROWS_AS(max_pool3d(x, bad), ValueError);
  REQUIRE_THROWS_WITH(max_pool3d(x, bad), Catch::Contains("max_pool3d") &&
                                              Catch::Contains("whole window in the padding") &&
                                              Catch::Contains("axis H") &&
                                              Catch::Contains("pad (0/0, 2/0, 0/0)"));
  bad = Pool3dParams::valid({1, 2, 2}, {1, 2, 2});
  bad.pad[2] = AxisPad{0, 3};
  REQUIRE_THROWS_WITH(avg_pool3d(x, bad), Catch::Contains("avg_pool3d") &&
                                              Catch::Contains("whole window in the padding") &&
                                              Catch::Contains("axis W"));
  bad.pad[2] = AxisPad{-1, 1};
  REQUIRE_THROWS_WITH(avg_pool3d(x, bad),
                      Catch::Contains("avg_pool3d") && Catch::Contains("padding >= 0"));
  // An empty axis.
  Variable e(Tensor::zeros(Shape{1, 0, 4, 4, 2}));
  REQUIRE_THROWS_WITH(max_pool3d(e, p),
                      Catch::Contains("max_pool3d") && Catch::Contains("empty T"));
}
