// gated_sum: forward and backward against the composition of the existing ops it fuses
// (ag::max_pool3d with the reference's SAME resize, ag::scale_by, ag::mul, ag::add_n) over a table
// of cases (odd sizes, padding after and before, T = 1, one input, gates on some inputs only, a
// shared weight vector with an index list, more inputs than one CUDA launch takes), the first-index
// tie rule and padding that never wins by hand, gradients by gradcheck (f64, distinct inputs),
// thread-count independence of the backward, and errors.
#include <catch2/catch.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/functions/concat_slice.h"
#include "autograd/functions/elementwise.h"
#include "autograd/functions/gated_sum.h"
#include "autograd/functions/pool.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "kernels/fusion/gated_sum_math.h"
#include "kernels/fusion/gated_sum.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

struct Case {
  std::string name;
  std::vector<Shape> xs;
  int64_t Hs, Ws;
  std::vector<bool> gated;            // empty: no gates at all
  std::vector<int64_t> weight_index;  // empty: weight j
  int64_t num_weights;
};

std::vector<Case> cases() {
  std::vector<Case> cs;
  // 11 -> 4: r = 3, pad 0/1; 7 -> 4: r = 2, pad 0/1; 4: identity.
  cs.push_back({"11x11, 7x7, 4x4 -> 4x4, gated",
                {Shape{2, 3, 11, 11, 5}, Shape{2, 3, 7, 7, 5}, Shape{2, 3, 4, 4, 5}},
                4,
                4,
                {true, true, true},
                {},
                3});
  cs.push_back({"11x11, 7x7, 4x4 -> 4x4, no gates",
                {Shape{2, 3, 11, 11, 5}, Shape{2, 3, 7, 7, 5}, Shape{2, 3, 4, 4, 5}},
                4,
                4,
                {},
                {},
                3});
  // r from H applied to W: 12x7 -> 4x3 is r = 3 with W padding 1/1 (padding before).
  cs.push_back({"T = 1, non-square, W padding before, gate on the middle input only",
                {Shape{1, 1, 12, 7, 3}, Shape{1, 1, 8, 5, 3}, Shape{1, 1, 4, 3, 3}},
                4,
                3,
                {false, true, false},
                {},
                3});
  cs.push_back(
      {"one input, pooled 7x7 -> 4x4, gated", {Shape{1, 2, 7, 7, 4}}, 4, 4, {true}, {}, 1});
  cs.push_back({"one input, identity, no gate", {Shape{2, 1, 3, 5, 2}}, 3, 5, {}, {}, 1});
  cs.push_back({"weight index list into a longer weight vector, C = 1",
                {Shape{1, 2, 9, 9, 1}, Shape{1, 2, 3, 3, 1}, Shape{1, 2, 5, 5, 1}},
                3,
                3,
                {true, false, true},
                {3, 0, 1},
                4});
  std::vector<Shape> many;
  for (int j = 0; j < 10; ++j)
    many.push_back(j % 3 == 0 ? Shape{1, 2, 6, 6, 4} : Shape{1, 2, 3, 3, 4});
  cs.push_back({"10 inputs (more than one CUDA launch), gated",
                many,
                3,
                3,
                std::vector<bool>(10, true),
                {},
                10});
  return cs;
}

struct Inputs {
  std::vector<Tensor> xs;
  Tensor weights;
  std::vector<Tensor> gates;  // empty, or one per input (undefined where ungated)
};

Inputs make_inputs(const Case& c, uint64_t seed, DType dt) {
  Inputs in;
  for (const Shape& s : c.xs) in.xs.push_back(test::random_distinct(s, ++seed, 0.01, dt));
  in.weights = test::random_uniform(Shape{c.num_weights}, ++seed, 0.2, 0.9, dt);
  for (size_t j = 0; j < c.gated.size(); ++j) {
    const Shape& s = c.xs[j];
    in.gates.push_back(c.gated[j]
                           ? test::random_uniform(Shape{s[0], s[1], s[4]}, ++seed, 0.1, 1.0, dt)
                           : Tensor());
  }
  return in;
}

// The fusion's composition of separate ops for one channel group.
Variable composed(const std::vector<Variable>& xs, const Variable& w,
                  const std::vector<int64_t>& index, const std::vector<Variable>& gates, int64_t Hs,
                  int64_t Ws) {
  std::vector<Variable> terms;
  for (size_t j = 0; j < xs.size(); ++j) {
    Variable x = xs[j];
    const Shape s = x.shape();
    if (s[2] != Hs || s[3] != Ws) {
      const int64_t r = (s[2] + 1) / Hs;
      x = max_pool3d(x, kernels::Pool3dParams::same({1, r, r}, {1, r, r}, {s[1], s[2], s[3]}));
    }
    const int64_t k = index.empty() ? static_cast<int64_t>(j) : index[j];
    x = scale_by(x, slice(w, 0, k, 1));
    if (!gates.empty() && gates[j].defined())
      x = mul(x, reshape(gates[j], Shape{s[0], s[1], 1, 1, s[4]}));
    terms.push_back(x);
  }
  return terms.size() == 1 ? terms[0] : add_n(terms);
}

struct Result {
  Tensor s;
  std::vector<Tensor> dxs, dgates;
  Tensor dw;
};

// Forward and backward (seed ds) through either implementation.
template <class F>
Result run(const F& f, const Inputs& in, const Tensor& ds) {
  tape().clear();
  std::vector<Variable> xs, gates;
  for (const Tensor& x : in.xs) xs.emplace_back(x, true);
  for (const Tensor& a : in.gates) gates.push_back(a.defined() ? Variable(a, true) : Variable());
  Variable w(in.weights, true);
  Variable s = f(xs, w, gates);
  Result r;
  r.s = s.value();
  backward(s, ds);
  for (const Variable& x : xs) r.dxs.push_back(x.grad());
  for (const Variable& a : gates) r.dgates.push_back(a.defined() ? a.grad() : Tensor());
  r.dw = w.grad();
  return r;
}

void require_same(const Result& got, const Result& want, double fwd_tol, double bwd_tol) {
  ASN_REQUIRE_CLOSE(got.s, want.s, fwd_tol, fwd_tol);
  for (size_t j = 0; j < want.dxs.size(); ++j) {
    INFO("dx " << j);
    ASN_REQUIRE_CLOSE(got.dxs[j], want.dxs[j], bwd_tol, bwd_tol);
  }
  for (size_t j = 0; j < want.dgates.size(); ++j) {
    INFO("dgate " << j);
    REQUIRE(got.dgates[j].defined() == want.dgates[j].defined());
    if (want.dgates[j].defined())
      ASN_REQUIRE_CLOSE(got.dgates[j], want.dgates[j], bwd_tol, bwd_tol);
  }
  ASN_REQUIRE_CLOSE(got.dw, want.dw, bwd_tol, bwd_tol);
}

void check_case(const Case& c, DType dt, uint64_t seed, double fwd_tol, double bwd_tol) {
  const Inputs in = make_inputs(c, seed, dt);
  const Shape out{c.xs[0][0], c.xs[0][1], c.Hs, c.Ws, c.xs[0][4]};
  const Tensor ds = test::random_uniform(out, seed + 100, -1, 1, dt);
  const Result fused = run(
      [&](const std::vector<Variable>& xs, const Variable& w, const std::vector<Variable>& g) {
        return gated_sum(xs, w, c.weight_index, g, c.Hs, c.Ws);
      },
      in, ds);
  const Result ref = run(
      [&](const std::vector<Variable>& xs, const Variable& w, const std::vector<Variable>& g) {
        return composed(xs, w, c.weight_index, g, c.Hs, c.Ws);
      },
      in, ds);
  REQUIRE(fused.s.shape() == out);
  require_same(fused, ref, fwd_tol, bwd_tol);
}

}  // namespace

TEST_CASE("gated_sum: forward is bitwise the composed ops, backward equals theirs (f64, f32)",
          "[gated_sum]") {
  uint64_t seed = 100;
  for (const Case& c : cases()) {
    INFO(c.name);
    // Same products in the same order: the forward is bitwise equal; the backward's reductions
    // (da, dw) are added in another order.
    check_case(c, DType::f64, seed += 20, 0, 1e-12);
    check_case(c, DType::f32, seed += 20, 0, 1e-5);
  }
}

TEST_CASE("gated_sum: kernel geometry follows the reference's resize rule", "[gated_sum]") {
  // Target 4x3. 11x9: r = 12 / 4 = 3, H pad 0/1, W 9 / 3 = 3 without padding. 12x7: r = 3, no H
  // padding, W 7 -> 3 with pad 1/1 (the padding before exists only when W differs from H).
  // 4x3: identity.
  const std::vector<Tensor> xs{Tensor::empty(Shape{1, 1, 11, 9, 2}),
                               Tensor::empty(Shape{1, 1, 12, 7, 2}),
                               Tensor::empty(Shape{1, 1, 4, 3, 2})};
  const kernels::GatedSumGeometry g =
      kernels::make_gated_sum_geometry("test", xs, 4, 3, 5, {4, 0, 2});
  REQUIRE(g.inputs.size() == 3);
  REQUIRE(g.num_weights == 5);
  REQUIRE(g.inputs[0].r == 3);
  REQUIRE(g.inputs[0].pad_h == 0);
  REQUIRE(g.inputs[0].pad_w == 0);
  REQUIRE(g.inputs[0].weight_index == 4);
  REQUIRE(g.inputs[1].r == 3);
  REQUIRE(g.inputs[1].pad_h == 0);
  REQUIRE(g.inputs[1].pad_w == 1);
  REQUIRE(g.inputs[1].weight_index == 0);
  REQUIRE(g.inputs[2].r == 1);
  REQUIRE(g.inputs[2].pad_w == 0);
  REQUIRE(g.inputs[2].weight_index == 2);
  REQUIRE(kernels::gated_sum_output_shape(g) == Shape{1, 1, 4, 3, 2});
  // 13 -> 4 is not a resize the rule can make: r = 3 gives 5.
  const kernels::GatedSumInput bad = kernels::gated_sum_resize(13, 13, 4, 4);
  REQUIRE(bad.r == 3);
}

TEST_CASE("gated_sum: ties go to the first element in scan order, by hand", "[gated_sum]") {
  // x (1, 1, 4, 4, 1) -> 2x2 (r = 5 / 2 = 2, no padding). Windows (scan order h, then w):
  //   (0,0): 1 3 / 3 2      max 3 at (0,1) (the later 3 at (1,0) loses the tie)
  //   (0,1): 0 0 / 5 5      max 5 at (1,2)
  //   (1,0): -1 -2 / -2 -1  max -1 at (2,0)
  //   (1,1): 7 7 / 7 6      max 7 at (2,2)
  const Tensor x = Tensor::from_vector<double>(
      Shape{1, 1, 4, 4, 1}, {1, 3, 0, 0, 3, 2, 5, 5, -1, -2, 7, 7, -2, -1, 7, 6});
  const Tensor ds = Tensor::from_vector<double>(Shape{1, 1, 2, 2, 1}, {1, 2, 3, 4});
  for (bool gated : {false, true}) {
    INFO("gated " << gated);
    tape().clear();
    Variable xv(x, true);
    Variable w(Tensor::from_vector<double>(Shape{1}, {0.5}), true);
    Variable a(Tensor::from_vector<double>(Shape{1, 1, 1}, {2.0}), true);
    std::vector<Variable> gates;
    if (gated) gates.push_back(a);
    Variable s = gated_sum({xv}, w, gates, 2, 2);
    const double scale = gated ? 1.0 : 0.5;  // w * a
    REQUIRE(s.value().to_vector<double>() ==
            std::vector<double>{3 * scale, 5 * scale, -1 * scale, 7 * scale});
    backward(s, ds);
    // dx = w * a * ds at the argmax, 0 elsewhere.
    std::vector<double> dx(16, 0.0);
    dx[1] = 1 * scale;
    dx[6] = 2 * scale;
    dx[8] = 3 * scale;
    dx[10] = 4 * scale;
    REQUIRE(xv.grad().to_vector<double>() == dx);
    // sum ds * m = 3 + 10 - 3 + 28 = 38; dw = a * 38; da = w * 38.
    REQUIRE(w.grad().to_vector<double>() == std::vector<double>{gated ? 76.0 : 38.0});
    if (gated) REQUIRE(a.grad().to_vector<double>() == std::vector<double>{19.0});
  }
}

TEST_CASE("gated_sum: padding never wins (all-negative inputs), by hand", "[gated_sum]") {
  // x (1, 1, 3, 3, 1) -> 2x2: r = 2, SAME pad 0/1 on both axes; windows rows {0, 1} | {2}, columns
  // {0, 1} | {2}. A zero padding would win every window here.
  const Tensor x =
      Tensor::from_vector<double>(Shape{1, 1, 3, 3, 1}, {-5, -4, -3, -6, -7, -8, -9, -1, -2});
  Variable xv(x, true);
  Variable w(Tensor::from_vector<double>(Shape{1}, {1.0}), false);
  tape().clear();
  Variable s = gated_sum({xv}, w, {}, 2, 2);
  REQUIRE(s.value().to_vector<double>() == std::vector<double>{-4, -3, -1, -2});
  backward(s, Tensor::from_vector<double>(Shape{1, 1, 2, 2, 1}, {1, 2, 3, 4}));
  REQUIRE(xv.grad().to_vector<double>() == std::vector<double>{0, 1, 2, 0, 0, 0, 0, 3, 4});
}

TEST_CASE("gated_sum: gradcheck for inputs, weights and gates (f64, distinct values)",
          "[gated_sum][gradcheck]") {
  struct GcCase {
    std::string name;
    std::vector<Shape> xs;
    int64_t Hs, Ws;
    std::vector<bool> gated;
    std::vector<int64_t> weight_index;
    int64_t num_weights;
  };
  const std::vector<GcCase> gcs{
      {"11x11, 7x7, 4x4 -> 4x4, all gated",
       {Shape{1, 2, 11, 11, 3}, Shape{1, 2, 7, 7, 3}, Shape{1, 2, 4, 4, 3}},
       4,
       4,
       {true, true, true},
       {},
       3},
      {"T = 1, 12x7 and 4x3 -> 4x3 (W padding before), one gate, shared weight",
       {Shape{2, 1, 12, 7, 2}, Shape{2, 1, 4, 3, 2}},
       4,
       3,
       {true, false},
       {1, 1},
       2},
      {"one input, no gates", {Shape{1, 1, 5, 5, 3}}, 2, 2, {}, {}, 1},
  };
  uint64_t seed = 900;
  for (const GcCase& c : gcs) {
    INFO(c.name);
    const Case cc{c.name, c.xs, c.Hs, c.Ws, c.gated, c.weight_index, c.num_weights};
    const Inputs in = make_inputs(cc, seed += 20, DType::f64);
    std::vector<Tensor> all = in.xs;
    all.push_back(in.weights);
    std::vector<size_t> gate_of;
    for (size_t j = 0; j < in.gates.size(); ++j) {
      if (!in.gates[j].defined()) continue;
      all.push_back(in.gates[j]);
      gate_of.push_back(j);
    }
    const size_t n = in.xs.size();
    auto f = [&](const std::vector<Variable>& v) {
      std::vector<Variable> xs(v.begin(), v.begin() + static_cast<long>(n));
      std::vector<Variable> gates(in.gates.size());
      for (size_t k = 0; k < gate_of.size(); ++k) gates[gate_of[k]] = v[n + 1 + k];
      return gated_sum(xs, v[n], c.weight_index, gates, c.Hs, c.Ws);
    };
    const GradcheckResult r = gradcheck(f, all);
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("gated_sum: results do not depend on the thread count", "[gated_sum]") {
  const Case c{"",
               {Shape{2, 3, 11, 11, 6}, Shape{2, 3, 7, 7, 6}, Shape{2, 3, 4, 4, 6}},
               4,
               4,
               {true, false, true},
               {},
               3};
  const Inputs in = make_inputs(c, 1300, DType::f32);
  const Tensor ds = test::random_uniform(Shape{2, 3, 4, 4, 6}, 1399, -1, 1, DType::f32);
  auto fused = [&](const std::vector<Variable>& xs, const Variable& w,
                   const std::vector<Variable>& g) { return gated_sum(xs, w, g, 4, 4); };
  const int threads = num_threads();
  set_num_threads(1);
  const Result one = run(fused, in, ds);
  set_num_threads(2);
  const Result two = run(fused, in, ds);
  set_num_threads(threads);
  require_same(two, one, 0, 0);
}

TEST_CASE("gated_sum: errors name the op and the offending tensors", "[gated_sum]") {
  auto x = [](const Shape& s, DType dt = DType::f32) { return Variable(Tensor::zeros(s, dt)); };
  const Variable w2 = x(Shape{2}), w1 = x(Shape{1});
  const Variable a = x(Shape{1, 2, 3}), b = x(Shape{1, 2, 5, 5, 3}), c = x(Shape{1, 2, 3, 3, 3});
  using Catch::Contains;

  REQUIRE_THROWS_WITH(gated_sum({}, w1, {}, 1, 1), Contains("gated_sum: needs at least one input"));
  REQUIRE_THROWS_WITH(gated_sum({b, x(Shape{1, 2, 3, 3, 4})}, w2, {}, 3, 3),
                      Contains("gated_sum: xs[1] f32 (1, 2, 3, 3, 4)") &&
                          Contains("xs[0] f32 (1, 2, 5, 5, 3)") && Contains("differ in N, T or C"));
  REQUIRE_THROWS_WITH(gated_sum({b, x(Shape{1, 2, 3, 3, 3}, DType::f64)}, w2, {}, 3, 3),
                      Contains("gated_sum: xs[1]") && Contains("f64 (1, 2, 3, 3, 3)") &&
                          Contains("f32 (1, 2, 5, 5, 3)"));
  REQUIRE_THROWS_WITH(gated_sum({x(Shape{2, 5, 5, 3})}, w1, {}, 3, 3),
                      Contains("gated_sum: xs[0] must have rank 5") && Contains("(2, 5, 5, 3)"));
  REQUIRE_THROWS_WITH(gated_sum({x(Shape{1, 1, 13, 13, 3})}, w1, {}, 4, 4),
                      Contains("gated_sum: xs[0] f32 (1, 1, 13, 13, 3)") && Contains("gives 5x5") &&
                          Contains("4x4"));
  REQUIRE_THROWS_WITH(gated_sum({c, b}, w2, {}, 4, 4),
                      Contains("gated_sum: xs[0] f32 (1, 2, 3, 3, 3)") &&
                          Contains("smaller than the target size 4x4"));
  REQUIRE_THROWS_WITH(gated_sum({b}, w1, {}, 0, 3), Contains("gated_sum: the target size 0x3"));
  REQUIRE_THROWS_WITH(
      gated_sum({b, c}, w1, {}, 3, 3),
      Contains("gated_sum: weights f32 (1,)") && Contains("one weight per input (2 inputs"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, x(Shape{1, 2}), {}, 3, 3),
                      Contains("gated_sum: weights must have rank 1") && Contains("(1, 2)"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, w2, {0, 2}, {}, 3, 3),
                      Contains("gated_sum: xs[1] f32 (1, 2, 3, 3, 3) on cpu uses weight 2") &&
                          Contains("(2 elements)"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, w2, {0}, {}, 3, 3),
                      Contains("gated_sum: 1 weight indices for 2 inputs"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, w2, {x(Shape{1, 2, 4}), a}, 3, 3),
                      Contains("gated_sum: gates[0] must have shape (N, T, C) = (1, 2, 3)") &&
                          Contains("xs[0] f32 (1, 2, 5, 5, 3)") && Contains("got f32 (1, 2, 4)"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, w2, {a}, 3, 3),
                      Contains("gated_sum: 1 gates for 2 inputs"));
  REQUIRE_THROWS_WITH(
      gated_sum({b, c}, w2, {a, x(Shape{1, 2, 3}, DType::f64)}, 3, 3),
      Contains("gated_sum: gates[1] is f64 (1, 2, 3)") && Contains("xs[0] is f32 (1, 2, 5, 5, 3)"));
  REQUIRE_THROWS_WITH(gated_sum({b, c}, x(Shape{2}, DType::f64), {}, 3, 3),
                      Contains("gated_sum: weights is f64 (2,)") && Contains("xs[0] is f32"));
  REQUIRE_THROWS_WITH(gated_sum({b, Variable()}, w2, {}, 3, 3),
                      Contains("gated_sum: xs[1] is an undefined Variable"));
  REQUIRE_THROWS_WITH(gated_sum({x(Shape{1, 2, 5, 5, 3}, DType::i32)}, w1, {}, 5, 5),
                      Contains("gated_sum: xs[0] must be f32 or f64"));
}

TEST_CASE("gated_sum: flat vector indices of the identity kernel equal per-element division",
          "[gated_sum]") {
  // Every start e (multiples of V, as the kernel uses) over several frames, for channel counts
  // and frame sizes around the vector width, including frames smaller than a vector.
  auto check = [](auto v_tag) {
    constexpr int V = decltype(v_tag)::value;
    for (int64_t C : {1, 2, 3, 4, 5, 7, 8, 25, 151}) {
      for (int64_t hw : {1, 2, 3, 6}) {
        const int64_t frame = hw * C;
        for (int64_t e = 0; e + V <= 5 * frame; e += V) {
          int64_t f[V], c[V];
          kernels::gated_sum_flat_indices<V>(e, C, frame, f, c);
          for (int l = 0; l < V; ++l) {
            INFO("V " << V << " C " << C << " frame " << frame << " e " << e << " lane " << l);
            REQUIRE(f[l] == (e + l) / frame);
            REQUIRE(c[l] == (e + l) % C);
          }
        }
      }
    }
  };
  check(std::integral_constant<int, 1>{});
  check(std::integral_constant<int, 2>{});
  check(std::integral_constant<int, 4>{});
}
