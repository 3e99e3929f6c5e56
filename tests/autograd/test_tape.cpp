// The tape: recording, reverse pass, accumulation, no-grad, parameters and the gradient checker,
// exercised with two tiny ops defined here (so the tape is tested independently of the op library).
#include <catch2/catch.hpp>

#include "autograd/gradcheck.h"
#include "autograd/parameters.h"
#include "autograd/tape.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// y = x * x (elementwise), dy/dx = 2x.
Variable square(const Variable& x) {
  Tensor xv = x.value();
  Tensor y = Tensor::empty(xv.shape(), DType::f64);
  for (int64_t i = 0; i < xv.numel(); ++i) y.data<double>()[i] = xv.data<double>()[i] * xv.data<double>()[i];
  return record1("test_square", {x}, y, [xv](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(xv.shape(), DType::f64);
    for (int64_t i = 0; i < xv.numel(); ++i)
      dx.data<double>()[i] = 2 * xv.data<double>()[i] * g[0].data<double>()[i];
    return std::vector<Tensor>{dx};
  });
}

// z = a * b (elementwise).
Variable mul(const Variable& a, const Variable& b) {
  Tensor av = a.value(), bv = b.value();
  Tensor z = Tensor::empty(av.shape(), DType::f64);
  for (int64_t i = 0; i < av.numel(); ++i) z.data<double>()[i] = av.data<double>()[i] * bv.data<double>()[i];
  return record1("test_mul", {a, b}, z, [av, bv](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
    std::vector<Tensor> out(2);
    if (needs[0]) {
      out[0] = Tensor::empty(av.shape(), DType::f64);
      for (int64_t i = 0; i < av.numel(); ++i)
        out[0].data<double>()[i] = bv.data<double>()[i] * g[0].data<double>()[i];
    }
    if (needs[1]) {
      out[1] = Tensor::empty(av.shape(), DType::f64);
      for (int64_t i = 0; i < av.numel(); ++i)
        out[1].data<double>()[i] = av.data<double>()[i] * g[0].data<double>()[i];
    }
    return out;
  });
}

// y = x (passes the incoming gradient straight through: tests aliasing).
Variable identity(const Variable& x) {
  return record1("test_identity", {x}, x.value(),
                 [](const std::vector<Tensor>& g, const std::vector<bool>&) { return std::vector<Tensor>{g[0]}; });
}

}  // namespace

TEST_CASE("tape: chain rule and accumulation over shared inputs", "[autograd]") {
  tape().clear();
  Variable x(Tensor::from_vector<double>(Shape{3}, {1, 2, -3}), true, "x");
  // f = x^2 * x = x^3 ; df/dx = 3 x^2 (x used twice: both paths accumulate)
  Variable f = mul(square(x), x);
  REQUIRE(tape().size() == 2);
  backward(f);
  REQUIRE(tape().size() == 0);
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{3, 12, 27});
  // Non-leaf gradients are released after use.
  REQUIRE_FALSE(f.has_grad());
}

TEST_CASE("tape: identity aliasing does not corrupt sibling gradients", "[autograd]") {
  tape().clear();
  Variable x(Tensor::from_vector<double>(Shape{2}, {1, 2}), true, "x");
  Variable y(Tensor::from_vector<double>(Shape{2}, {5, 7}), true, "y");
  Variable a = identity(x);
  Variable b = identity(y);
  Variable p = mul(a, b);       // d/dx = y, d/dy = x
  Variable q = mul(identity(a), identity(a));  // d/dx = 2x
  Variable s = mul(p, identity(q));  // s = x y x^2 = x^3 y
  backward(s);
  // ds/dx = 3 x^2 y ; ds/dy = x^3
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{15, 84});
  REQUIRE(y.grad().to_vector<double>() == std::vector<double>{1, 8});
}

// y = 2 x: the backward needs no tensor, so it saves none.
Variable twice(const Variable& x) {
  Tensor xv = x.value();
  Tensor y = Tensor::empty(xv.shape(), DType::f64);
  for (int64_t i = 0; i < xv.numel(); ++i) y.data<double>()[i] = 2 * xv.data<double>()[i];
  return record1("test_twice", {x}, y, [](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(g[0].shape(), DType::f64);
    for (int64_t i = 0; i < g[0].numel(); ++i) dx.data<double>()[i] = 2 * g[0].data<double>()[i];
    return std::vector<Tensor>{dx};
  });
}

TEST_CASE("tape: nodes keep no values alive, only what backward functions saved", "[autograd]") {
  tape().clear();
  Variable x(Tensor::from_vector<double>(Shape{3}, {1, -2, 3}), true, "x");
  std::weak_ptr<Storage> a_storage, b_storage;
  Variable f;
  {
    Variable a = twice(x);   // saves nothing: a is only an input of `square` below
    Variable b = square(a);  // saves a (its input)
    f = twice(b);            // saves nothing: b is freed once the forward pass drops it
    a_storage = a.value().storage();
    b_storage = b.value().storage();
  }
  REQUIRE(tape().size() == 3);
  REQUIRE_FALSE(a_storage.expired());  // saved by square's backward
  REQUIRE(b_storage.expired());        // recorded as twice's input, but not kept by the tape
  backward(f);
  REQUIRE(a_storage.expired());        // released with square's node
  // f = 2 (2x)^2 = 8 x^2: df/dx = 16 x
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{16, -32, 48});
}

TEST_CASE("tape: an undefined (absent optional) input is recorded and never gets a gradient", "[autograd]") {
  tape().clear();
  Variable x(Tensor::from_vector<double>(Shape{2}, {1, 2}), true, "x");
  Variable none;
  Variable y = record1("test_optional", {x, none}, x.value().clone(),
                       [](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
                         REQUIRE(needs.size() == 2);
                         REQUIRE_FALSE(needs[1]);
                         return std::vector<Tensor>{g[0], Tensor()};
                       });
  backward(y);
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 1});
}

TEST_CASE("tape: no-grad guard records nothing", "[autograd]") {
  tape().clear();
  Variable x(Tensor::from_vector<double>(Shape{2}, {1, 2}), true);
  {
    NoGradGuard g;
    Variable y = square(x);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(tape().size() == 0);
  }
  Variable c(Tensor::from_vector<double>(Shape{2}, {1, 2}), false);
  Variable z = square(c);
  REQUIRE_FALSE(z.requires_grad());
  REQUIRE(tape().size() == 0);
  REQUIRE_THROWS_WITH(backward(z), Catch::Contains("does not require a gradient"));
}

TEST_CASE("parameters: flat buffers, views, decay-first layout", "[autograd]") {
  Parameters ps;
  Variable w = ps.add("w", Shape{2, 3}, init::constant(0.5));
  Variable b = ps.add("b", Shape{3}, init::constant(-1), ParamOptions{true, false});
  Variable m = ps.add_buffer("moving_mean", Shape{3}, init::zeros());
  Variable w2 = ps.add("w2", Shape{4}, init::uniform(0, 1));
  REQUIRE_THROWS_WITH(ps.add("w", Shape{1}, init::zeros()), Catch::Contains("duplicate parameter name 'w'"));
  Generator gen(1);
  ps.finalize(DType::f64, Device::cpu(), gen);
  REQUIRE(ps.num_trainable() == 6 + 3 + 4);
  REQUIRE(ps.decay_count() == 10);  // w and w2 first
  REQUIRE(ps.find("b").offset == 10);
  REQUIRE(ps.num_buffer_elements() == 3);
  REQUIRE(w.value().shares_storage_with(ps.values()));
  REQUIRE(w.grad().shares_storage_with(ps.grads()));
  REQUIRE(b.value().to_vector<double>() == std::vector<double>{-1, -1, -1});
  REQUIRE_FALSE(m.requires_grad());
  REQUIRE(m.value().shares_storage_with(ps.buffers()));
  // Writing through the flat buffer is seen by the view.
  ps.values().data<double>()[0] = 9;
  REQUIRE(w.value().to_vector<double>()[0] == 9);

  // Gradients of parameters accumulate into the flat buffer.
  tape().clear();
  backward(mul(w2, w2));
  REQUIRE(ps.grads().data<double>()[6] == Approx(2 * w2.value().to_vector<double>()[0]));
  backward(mul(w2, w2));
  REQUIRE(ps.grads().data<double>()[6] == Approx(4 * w2.value().to_vector<double>()[0]));
  ps.zero_grad();
  REQUIRE(ps.grads().data<double>()[6] == 0);

  // The same seed gives the same initial values.
  Parameters ps2;
  ps2.add("w", Shape{2, 3}, init::constant(0.5));
  ps2.add("b", Shape{3}, init::constant(-1), ParamOptions{true, false});
  ps2.add_buffer("moving_mean", Shape{3}, init::zeros());
  Variable w2b = ps2.add("w2", Shape{4}, init::uniform(0, 1));
  Generator gen2(1);
  ps2.finalize(DType::f64, Device::cpu(), gen2);
  REQUIRE(w2b.value().to_vector<double>() == w2.value().to_vector<double>());
}

TEST_CASE("gradcheck: passes a correct gradient and catches a wrong one", "[autograd]") {
  Tensor x = test::random_uniform(Shape{5}, 11);
  Tensor y = test::random_uniform(Shape{5}, 12);
  GradcheckResult ok = gradcheck([](const std::vector<Variable>& v) { return mul(square(v[0]), v[1]); }, {x, y});
  INFO(ok.report);
  REQUIRE(ok.ok);

  auto wrong = [](const std::vector<Variable>& v) {
    Tensor xv = v[0].value();
    Tensor y2 = xv.clone();
    for (int64_t i = 0; i < xv.numel(); ++i) y2.data<double>()[i] = xv.data<double>()[i] * xv.data<double>()[i];
    // Claims dy/dx = x instead of 2x.
    return record1("wrong_square", {v[0]}, y2, [xv](const std::vector<Tensor>& g, const std::vector<bool>&) {
      Tensor d = xv.clone();
      for (int64_t i = 0; i < xv.numel(); ++i) d.data<double>()[i] *= g[0].data<double>()[i];
      return std::vector<Tensor>{d};
    });
  };
  GradcheckResult bad = gradcheck(wrong, {x});
  REQUIRE_FALSE(bad.ok);
  REQUIRE_THAT(bad.report, Catch::Contains("FAILED") && Catch::Contains("input 0"));
}
