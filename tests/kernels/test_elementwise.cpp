// Broadcasting add / sub / mul, add_n, scale and scale_by: forward against the double oracle,
// gradients by gradcheck (f64) on every input including broadcast axes, reductions at large f32
// sizes against the oracle (both reduction strategies, several thread counts), error messages.
#include <catch2/catch.hpp>

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "tests/oracles/elementwise_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// Restores the engine's thread count when a test that changes it ends (also on failure).
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

using BinaryFn = Variable (*)(const Variable&, const Variable&);

struct NamedOp {
  const char* name;
  char symbol;
  BinaryFn fn;
};
const NamedOp kOps[] = {{"add", '+', &add}, {"sub", '-', &sub}, {"mul", '*', &mul}};

// Shape pairs (a, b): full, gates, per-channel vectors, both broadcast, single elements, T = 1.
const std::pair<Shape, Shape> kPairs[] = {
    {Shape{2, 3, 5, 3, 4}, Shape{2, 3, 5, 3, 4}},
    {Shape{2, 3, 5, 3, 4}, Shape{2, 3, 1, 1, 4}},  // gate (N, T, 1, 1, C)
    {Shape{2, 3, 1, 1, 4}, Shape{2, 3, 5, 3, 4}},  // the gate on the left
    {Shape{1, 1, 1, 1, 4}, Shape{2, 3, 5, 3, 4}},  // per-channel vector (outer axes reduced)
    {Shape{2, 1, 5, 3, 4}, Shape{2, 1, 5, 3, 1}},  // T = 1, per-position scalar
    {Shape{2, 1, 5}, Shape{1, 3, 1}},              // both broadcast
    {Shape{1, 1, 1}, Shape{2, 3, 4}},              // a single element
    {Shape{7}, Shape{1}},
    {Shape{1, 5}, Shape{3, 1}},
};

struct Grads {
  Tensor out, da, db;
};

Grads run_binary(BinaryFn f, const Tensor& a, const Tensor& b, const Tensor& dout) {
  tape().clear();
  Variable va(a, true, "a"), vb(b, true, "b");
  Variable out = f(va, vb);
  backward(out, dout);
  return {out.value(), va.grad(), vb.grad()};
}

}  // namespace

TEST_CASE("elementwise: broadcast forward matches the oracle (f64, f32)", "[elementwise]") {
  for (const auto& [sa, sb] : kPairs) {
    for (const NamedOp& op : kOps) {
      INFO(op.name << " " << sa.str() << " " << sb.str());
      Tensor a = test::random_uniform(sa, 1), b = test::random_uniform(sb, 2);
      Tensor ref = oracle::binary(op.symbol, a, b);
      ASN_REQUIRE_CLOSE(op.fn(Variable(a), Variable(b)).value(), ref, 0, 0);  // one rounding: exact
      // f32: one rounding of the exact result of the f32 inputs.
      Tensor a32 = a.to(DType::f32), b32 = b.to(DType::f32);
      Tensor out32 = op.fn(Variable(a32), Variable(b32)).value();
      REQUIRE(out32.dtype() == DType::f32);
      ASN_REQUIRE_CLOSE(out32.to(DType::f64), oracle::binary(op.symbol, a32, b32), 1e-7, 1e-30);
    }
  }
}

TEST_CASE("elementwise: hand-computed broadcast", "[elementwise]") {
  // (2, 1) * (1, 3) -> (2, 3) outer product; (2, 3) - (1, 3).
  Tensor a = Tensor::from_vector<double>(Shape{2, 1}, {2, 3});
  Tensor b = Tensor::from_vector<double>(Shape{1, 3}, {1, 10, 100});
  REQUIRE(mul(Variable(a), Variable(b)).value().to_vector<double>() ==
          std::vector<double>{2, 20, 200, 3, 30, 300});
  Tensor m = Tensor::from_vector<double>(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  REQUIRE(sub(Variable(m), Variable(b)).value().to_vector<double>() ==
          std::vector<double>{0, -8, -97, 3, -5, -94});
  // Gradient of the broadcast operand sums over the broadcast axis: d/db sum(m - b) = -2 each.
  Grads g = run_binary(&sub, m, b, Tensor::full(Shape{2, 3}, 1.0, DType::f64));
  REQUIRE(g.db.to_vector<double>() == std::vector<double>{-2, -2, -2});
  REQUIRE(g.da.to_vector<double>() == std::vector<double>(6, 1.0));
}

TEST_CASE("elementwise: gradcheck add / sub / mul on both inputs (f64)", "[elementwise]") {
  for (const auto& [sa, sb] : kPairs) {
    for (const NamedOp& op : kOps) {
      INFO(op.name << " " << sa.str() << " " << sb.str());
      Tensor a = test::random_uniform(sa, 3), b = test::random_uniform(sb, 4);
      BinaryFn f = op.fn;
      GradcheckResult r =
          gradcheck([f](const std::vector<Variable>& v) { return f(v[0], v[1]); }, {a, b});
      INFO(r.report);
      REQUIRE(r.ok);
    }
  }
  // The same Variable on both sides: x * x has gradient 2x, x + x gradient 2, x - x gradient 0.
  Tensor x = test::random_uniform(Shape{3, 4}, 5);
  for (const NamedOp& op : kOps) {
    BinaryFn f = op.fn;
    GradcheckResult r =
        gradcheck([f](const std::vector<Variable>& v) { return f(v[0], v[0]); }, {x});
    INFO(op.name << " " << r.report);
    REQUIRE(r.ok);
  }
  // Only one operand requiring a gradient (mul then keeps just the other operand).
  Tensor gate = test::random_uniform(Shape{3, 1}, 6);
  GradcheckResult r = gradcheck([](const std::vector<Variable>& v) { return mul(v[0], v[1]); },
                                {x, gate}, GradcheckOptions{1e-6, 1e-6, 1e-8, 1234, {true, false}});
  INFO(r.report);
  REQUIRE(r.ok);
  r = gradcheck([](const std::vector<Variable>& v) { return mul(v[0], v[1]); }, {x, gate},
                GradcheckOptions{1e-6, 1e-6, 1e-8, 1234, {false, true}});
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("elementwise: broadcast gradients at large f32 sizes, 1 and 3 threads, deterministic",
          "[elementwise]") {
  // Large enough for several chunks: exercises both reduction strategies (outer axis kept: the
  // gate; outer axis reduced: the per-channel vector) and the single-element operand.
  const Shape x_shape{2, 8, 28, 28, 48};
  const Shape operand_shapes[] = {Shape{2, 8, 1, 1, 48}, Shape{1, 1, 1, 1, 48},
                                  Shape{2, 8, 28, 28, 1}, Shape{1, 1, 1, 1, 1}};
  ThreadCountGuard restore_threads;  // a failing REQUIRE must not leak the thread count
  for (const Shape& gs : operand_shapes) {
    INFO(gs.str());
    Tensor x = test::random_uniform(x_shape, 6, -1, 1, DType::f32);
    Tensor gate = test::random_uniform(gs, 7, -1, 1, DType::f32);
    Tensor dout = test::random_uniform(x_shape, 8, -1, 1, DType::f32);
    // Oracle: d gate = sum over broadcast axes of dout * x; d x = dout * gate.
    Tensor dgate_ref = oracle::sum_to_shape(oracle::binary('*', dout, x), gs);
    Tensor dx_ref = oracle::binary('*', dout, gate);
    Tensor dadd_ref = oracle::sum_to_shape(dout, gs);
    for (int threads : {1, 3}) {
      set_num_threads(threads);
      Grads m = run_binary(&mul, x, gate, dout);
      ASN_REQUIRE_CLOSE(m.out.to(DType::f64), oracle::binary('*', x, gate), 1e-6, 1e-7);
      ASN_REQUIRE_CLOSE(m.da.to(DType::f64), dx_ref, 1e-6, 1e-7);
      ASN_REQUIRE_CLOSE(m.db.to(DType::f64), dgate_ref, 1e-5, 1e-5);
      Grads m2 = run_binary(&mul, x, gate, dout);
      REQUIRE(m2.db.to_vector<float>() == m.db.to_vector<float>());  // bitwise repeatable
      Grads s = run_binary(&add, gate, x, dout);
      ASN_REQUIRE_CLOSE(s.da.to(DType::f64), dadd_ref, 1e-5, 1e-5);
    }
  }
}

TEST_CASE("elementwise: add_n sums in order, gradient to every input", "[elementwise]") {
  const Shape shape{2, 3, 5, 3, 4};
  Tensor a = test::random_uniform(shape, 10), b = test::random_uniform(shape, 11),
         c = test::random_uniform(shape, 12);
  Tensor ref = oracle::binary('+', oracle::binary('+', a, b), c);
  ASN_REQUIRE_CLOSE(add_n({Variable(a), Variable(b), Variable(c)}).value(), ref, 0, 0);
  ASN_REQUIRE_CLOSE(add_n({Variable(a)}).value(), a, 0, 0);
  GradcheckResult r = gradcheck(
      [](const std::vector<Variable>& v) {
        return add_n({v[0], v[1], v[2], v[0]});
      },
      {a, b, c});
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("elementwise: scale and scale_by", "[elementwise]") {
  Tensor x = test::random_uniform(Shape{2, 3, 5, 3, 4}, 13);
  std::vector<double> xs = x.to_vector<double>();
  std::vector<double> y = scale(Variable(x), -2.5).value().to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) REQUIRE(y[i] == -2.5 * xs[i]);
  GradcheckResult r =
      gradcheck([](const std::vector<Variable>& v) { return scale(v[0], 0.3); }, {x});
  INFO(r.report);
  REQUIRE(r.ok);

  Tensor s = Tensor::from_vector<double>(Shape{1}, {0.7});
  std::vector<double> z = scale_by(Variable(x), Variable(s)).value().to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) REQUIRE(z[i] == 0.7 * xs[i]);
  r = gradcheck([](const std::vector<Variable>& v) { return scale_by(v[0], v[1]); }, {x, s});
  INFO(r.report);
  REQUIRE(r.ok);
  for (bool x_trainable : {true, false}) {  // one of the two frozen
    r = gradcheck([](const std::vector<Variable>& v) { return scale_by(v[0], v[1]); }, {x, s},
                  GradcheckOptions{1e-6, 1e-6, 1e-8, 1234, {x_trainable, !x_trainable}});
    INFO(r.report);
    REQUIRE(r.ok);
  }
  // An edge gate: sigmoid of a (1,) logit times the input, gradient to the logit and the input.
  Tensor logit = Tensor::from_vector<double>(Shape{1}, {-0.4});
  r = gradcheck([](const std::vector<Variable>& v) { return scale_by(v[0], sigmoid(v[1])); },
                {x, logit});
  INFO(r.report);
  REQUIRE(r.ok);
  // ds = sum(dy * x) by hand.
  tape().clear();
  Variable vx(Tensor::from_vector<double>(Shape{3}, {1, 2, 3}), true);
  Variable vs(Tensor::from_vector<double>(Shape{1}, {2}), true);
  backward(scale_by(vx, vs), Tensor::from_vector<double>(Shape{3}, {1, 10, 100}));
  REQUIRE(vs.grad().to_vector<double>() == std::vector<double>{321});
  REQUIRE(vx.grad().to_vector<double>() == std::vector<double>{2, 20, 200});
}

TEST_CASE("elementwise: wrong shapes and dtypes throw naming the op and the shapes",
          "[elementwise]") {
  Variable a(Tensor::zeros(Shape{2, 3}, DType::f32));
  Variable b(Tensor::zeros(Shape{4, 3}, DType::f32));
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add:") && Catch::Contains("(2, 3)") &&
                                     Catch::Contains("(4, 3)") &&
                                     Catch::Contains("do not broadcast"));
  REQUIRE_THROWS_WITH(
      mul(a, Variable(Tensor::zeros(Shape{3}, DType::f32))),
      Catch::Contains("mul:") && Catch::Contains("(2, 3)") && Catch::Contains("(3,)"));
  REQUIRE_THROWS_WITH(
      sub(a, Variable(Tensor::zeros(Shape{2, 3}, DType::f64))),
      Catch::Contains("sub:") && Catch::Contains("f64 (2, 3)") && Catch::Contains("f32 (2, 3)"));
  REQUIRE_THROWS_WITH(
      add(a, Variable(Tensor::zeros(Shape{2, 3}, DType::i32))),
      Catch::Contains("add: b must be f32 or f64") && Catch::Contains("i32 (2, 3)"));
  REQUIRE_THROWS_WITH(add_n({a, b}), Catch::Contains("add_n: xs[1]") && Catch::Contains("(4, 3)") &&
                                         Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(add_n({}), Catch::Contains("add_n: needs at least one input"));
  REQUIRE_THROWS_WITH(scale_by(a, Variable(Tensor::zeros(Shape{2}, DType::f32))),
                      Catch::Contains("scale_by: s must hold exactly one element") &&
                          Catch::Contains("(2,)") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(scale_by(a, Variable(Tensor::zeros(Shape{1}, DType::f64))),
                      Catch::Contains("scale_by:") && Catch::Contains("f64 (1,)"));
}
