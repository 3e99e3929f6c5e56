// Batch normalisation (and the fused BN + ReLU): forward and running statistics against the double
// oracle and a hand-computed case; gradients by gradcheck (f64) in training and evaluation, with
// and without gamma / beta, odd sizes, T = 1; fused vs unfused composition; f32 accuracy and
// determinism on a 1x8x56x56x64 input; error messages.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/functions/activations.h"
#include "autograd/functions/batch_norm.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "tests/oracles/batch_norm_oracle.h"
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

Variable buffer(const Tensor& t) { return Variable(t.clone(), false, "buffer"); }

std::vector<double> vec(const Tensor& t) { return t.to_vector<double>(); }

Tensor channel_tensor(const std::vector<double>& v) {
  return Tensor::from_vector<double>(Shape{static_cast<int64_t>(v.size())}, v);
}

// Everything one BN call produces: output, gradients (where the inputs require them) and the
// running statistics after the call.
struct BnRun {
  Tensor y, dx, dgamma, dbeta, running_mean, running_var;
};

BnRun run_bn(bool fused, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
             const Tensor& rv, const BatchNormOptions& opt, const Tensor& dy) {
  tape().clear();
  Variable vx(x.clone(), true, "x");
  Variable vg = gamma.defined() ? Variable(gamma.clone(), true, "gamma") : Variable();
  Variable vb = beta.defined() ? Variable(beta.clone(), true, "beta") : Variable();
  Variable m = buffer(rm), v = buffer(rv);
  Variable y = fused ? batch_norm_relu(vx, vg, vb, m, v, opt) : batch_norm(vx, vg, vb, m, v, opt);
  backward(y, dy);
  BnRun r;
  r.y = y.value();
  r.dx = vx.grad();
  if (vg.defined()) r.dgamma = vg.grad();
  if (vb.defined()) r.dbeta = vb.grad();
  r.running_mean = m.value();
  r.running_var = v.value();
  return r;
}

}  // namespace

TEST_CASE("batch_norm: running statistics and output by hand (momentum 0.99, unbiased variance)",
          "[batch_norm]") {
  // Two channels over 4 rows: channel 0 = {1, 2, 3, 4}: mean 2.5, biased var 1.25, unbiased 5/3;
  // channel 1 = {0, 0, 2, 2}: mean 1, biased var 1, unbiased 4/3.
  Tensor x = Tensor::from_vector<double>(Shape{4, 2}, {1, 0, 2, 0, 3, 2, 4, 2});
  Variable rm(Tensor::from_vector<double>(Shape{2}, {0.5, -1}), false);
  Variable rv(Tensor::from_vector<double>(Shape{2}, {1, 2}), false);
  Variable y =
      batch_norm(Variable(x), Variable(), Variable(), rm, rv, BatchNormOptions{true, 0.99, 1e-5});
  std::vector<double> m = vec(rm.value()), v = vec(rv.value());
  REQUIRE(m[0] == Approx(0.99 * 0.5 + 0.01 * 2.5).epsilon(1e-14));
  REQUIRE(m[1] == Approx(0.99 * -1 + 0.01 * 1).epsilon(1e-14));
  REQUIRE(v[0] == Approx(0.99 * 1 + 0.01 * 5.0 / 3.0).epsilon(1e-14));
  REQUIRE(v[1] == Approx(0.99 * 2 + 0.01 * 4.0 / 3.0).epsilon(1e-14));
  std::vector<double> yv = vec(y.value());
  REQUIRE(yv[0] == Approx((1 - 2.5) / std::sqrt(1.25 + 1e-5)).epsilon(1e-14));
  REQUIRE(yv[1] == Approx((0 - 1) / std::sqrt(1 + 1e-5)).epsilon(1e-14));
  REQUIRE(yv[7] == Approx((2 - 1) / std::sqrt(1 + 1e-5)).epsilon(1e-14));

  // Evaluation uses the running statistics and leaves them unchanged.
  Tensor g = Tensor::from_vector<double>(Shape{2}, {2, 3});
  Tensor b = Tensor::from_vector<double>(Shape{2}, {0.5, -0.5});
  Variable ye = batch_norm(Variable(x), Variable(g), Variable(b), rm, rv, BatchNormOptions{false});
  REQUIRE(vec(rm.value()) == m);
  REQUIRE(vec(rv.value()) == v);
  REQUIRE(vec(ye.value())[2] ==
          Approx(2 * (2 - m[0]) / std::sqrt(v[0] + 1e-5) + 0.5).epsilon(1e-14));
  REQUIRE(vec(ye.value())[5] ==
          Approx(3 * (2 - m[1]) / std::sqrt(v[1] + 1e-5) - 0.5).epsilon(1e-14));
}

TEST_CASE("batch_norm: forward and running statistics match the oracle", "[batch_norm]") {
  for (const Shape& shape : {Shape{2, 3, 5, 3, 4}, Shape{2, 1, 3, 3, 5}, Shape{7, 3}}) {
    const int64_t C = shape[-1];
    for (DType dt : {DType::f64, DType::f32}) {
      for (bool fused : {false, true}) {
        for (bool training : {true, false}) {
          for (bool affine : {true, false}) {
            INFO(shape.str() << " " << dtype_name(dt) << " fused " << fused << " training "
                             << training << " affine " << affine);
            Tensor x = test::random_normal(shape, 41, 1.5, dt);
            Tensor gamma = affine ? test::random_uniform(Shape{C}, 42, 0.5, 1.5, dt) : Tensor();
            Tensor beta = affine ? test::random_uniform(Shape{C}, 43, -0.5, 0.5, dt) : Tensor();
            Tensor rm = test::random_uniform(Shape{C}, 44, -0.3, 0.3, dt);
            Tensor rv = test::random_uniform(Shape{C}, 45, 0.5, 2.0, dt);
            oracle::BatchNormResult ref =
                oracle::batch_norm(x, affine ? vec(gamma) : std::vector<double>{},
                                   affine ? vec(beta) : std::vector<double>{}, vec(rm), vec(rv),
                                   training, 0.99, 1e-3, fused);
            BatchNormOptions opt{training, 0.99, 1e-3};
            BnRun r = run_bn(fused, x, gamma, beta, rm, rv, opt, Tensor::zeros(shape, dt));
            const double tol = dt == DType::f64 ? 1e-13 : 2e-6;
            REQUIRE(r.y.dtype() == dt);
            ASN_REQUIRE_CLOSE(r.y.to(DType::f64), ref.y, tol, tol);
            ASN_REQUIRE_CLOSE(r.running_mean.to(DType::f64), channel_tensor(ref.running_mean), tol,
                              tol);
            ASN_REQUIRE_CLOSE(r.running_var.to(DType::f64), channel_tensor(ref.running_var), tol,
                              tol);
          }
        }
      }
    }
  }
}

TEST_CASE("batch_norm: gradcheck training and evaluation, with and without gamma/beta (f64)",
          "[batch_norm]") {
  for (const Shape& shape : {Shape{2, 3, 5, 3, 4}, Shape{2, 1, 3, 3, 5}, Shape{5, 3}}) {
    const int64_t C = shape[-1];
    Tensor x = test::random_normal(shape, 51, 2.0);
    Tensor gamma = test::random_uniform(Shape{C}, 52, 0.5, 1.5);
    Tensor beta = test::random_uniform(Shape{C}, 53, -0.5, 0.5);
    Variable rm = buffer(test::random_uniform(Shape{C}, 54, -0.3, 0.3));
    Variable rv = buffer(test::random_uniform(Shape{C}, 55, 0.5, 2.0));
    for (bool training : {true, false}) {
      INFO(shape.str() << " training " << training);
      const BatchNormOptions opt{training, 0.99, 1e-3};
      GradcheckResult r = gradcheck(
          [&](const std::vector<Variable>& v) { return batch_norm(v[0], v[1], v[2], rm, rv, opt); },
          {x, gamma, beta});
      INFO(r.report);
      REQUIRE(r.ok);
      r = gradcheck(
          [&](const std::vector<Variable>& v) {
            return batch_norm(v[0], Variable(), Variable(), rm, rv, opt);
          },
          {x});
      INFO(r.report);
      REQUIRE(r.ok);
      // gamma only / beta only.
      r = gradcheck(
          [&](const std::vector<Variable>& v) {
            return batch_norm(v[0], v[1], Variable(), rm, rv, opt);
          },
          {x, gamma});
      INFO(r.report);
      REQUIRE(r.ok);
      r = gradcheck(
          [&](const std::vector<Variable>& v) {
            return batch_norm(v[0], Variable(), v[1], rm, rv, opt);
          },
          {x, beta});
      INFO(r.report);
      REQUIRE(r.ok);
    }
  }
  // Training without running statistics (no update) is allowed.
  Tensor x = test::random_normal(Shape{3, 1, 2, 2, 3}, 56);
  GradcheckResult r = gradcheck(
      [](const std::vector<Variable>& v) {
        return batch_norm(v[0], v[1], v[1], Variable(), Variable());
      },
      {x, test::random_uniform(Shape{3}, 57, 0.5, 1.5)});
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("batch_norm_relu: gradcheck away from the kink, equals relu(batch_norm) (f64, f32)",
          "[batch_norm]") {
  const Shape shape{2, 3, 5, 3, 4};
  const int64_t C = 4;
  for (bool training : {true, false}) {
    INFO("training " << training);
    const BatchNormOptions opt{training, 0.99, 1e-3};
    Tensor x = test::random_normal(shape, 61, 2.0);
    Tensor gamma = test::random_uniform(Shape{C}, 62, 0.5, 1.5);
    Tensor beta = test::random_uniform(Shape{C}, 63, -0.5, 0.5);
    Variable rm = buffer(test::random_uniform(Shape{C}, 64, -0.3, 0.3));
    Variable rv = buffer(test::random_uniform(Shape{C}, 65, 0.5, 2.0));
    {
      // Keep the pre-activation away from 0 so finite differences do not straddle the kink.
      NoGradGuard ng;
      std::vector<double> z =
          vec(batch_norm(Variable(x), Variable(gamma), Variable(beta), rm, rv, opt).value());
      double min_abs = 1e9;
      for (double e : z) min_abs = std::min(min_abs, std::fabs(e));
      REQUIRE(min_abs > 1e-4);
    }
    GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) {
          return batch_norm_relu(v[0], v[1], v[2], rm, rv, opt);
        },
        {x, gamma, beta});
    INFO(r.report);
    REQUIRE(r.ok);

    // Fused vs unfused, forward and every gradient.
    for (DType dt : {DType::f64, DType::f32}) {
      INFO(dtype_name(dt));
      Tensor xd = x.to(dt), gd = gamma.to(dt), bd = beta.to(dt),
             dy = test::random_uniform(shape, 66, -1, 1, dt);
      BnRun fused = run_bn(true, xd, gd, bd, rm.value().to(dt), rv.value().to(dt), opt, dy);
      tape().clear();
      Variable vx(xd.clone(), true), vg(gd.clone(), true), vb(bd.clone(), true);
      Variable y =
          relu(batch_norm(vx, vg, vb, buffer(rm.value().to(dt)), buffer(rv.value().to(dt)), opt));
      backward(y, dy);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      ASN_REQUIRE_CLOSE(fused.y, y.value(), 0, 0);
      ASN_REQUIRE_CLOSE(fused.dx, vx.grad(), tol, tol);
      ASN_REQUIRE_CLOSE(fused.dgamma, vg.grad(), tol, tol);
      ASN_REQUIRE_CLOSE(fused.dbeta, vb.grad(), tol, tol);
    }
  }
}

TEST_CASE("batch_norm: f32 on 1x8x56x56x64 matches the f64 oracle to 1e-5 and is deterministic",
          "[batch_norm]") {
  const Shape shape{1, 8, 56, 56, 64};
  const int64_t C = 64;
  // Channel means of 20 to 23, ten times the spread: the variance must not cancel in f32.
  Tensor x64 = test::random_normal(shape, 71, 2.0);
  {
    double* p = x64.data<double>();
    for (int64_t i = 0; i < x64.numel(); ++i) p[i] += 20.0 + 0.05 * static_cast<double>(i % C);
  }
  Tensor x = x64.to(DType::f32);
  Tensor gamma = test::random_uniform(Shape{C}, 72, 0.5, 1.5, DType::f32);
  Tensor beta = test::random_uniform(Shape{C}, 73, -0.5, 0.5, DType::f32);
  Tensor rm = Tensor::zeros(Shape{C}, DType::f32), rv = Tensor::full(Shape{C}, 1.0, DType::f32);
  Tensor dy = test::random_uniform(shape, 74, -1, 1, DType::f32);
  const BatchNormOptions opt{true, 0.99, 1e-5};
  oracle::BatchNormResult ref =
      oracle::batch_norm(x, vec(gamma), vec(beta), vec(rm), vec(rv), true, 0.99, 1e-5, false);
  oracle::BatchNormGrads gref = oracle::batch_norm_train_backward(x, dy, vec(gamma), 1e-5);
  Tensor ref_relu =
      oracle::batch_norm(x, vec(gamma), vec(beta), vec(rm), vec(rv), true, 0.99, 1e-5, true).y;

  ThreadCountGuard restore_threads;  // a failing REQUIRE must not leak the thread count
  for (int threads : {1, 3}) {
    INFO("threads " << threads);
    set_num_threads(threads);
    BnRun r = run_bn(false, x, gamma, beta, rm, rv, opt, dy);
    ASN_REQUIRE_CLOSE(r.y.to(DType::f64), ref.y, 1e-5, 1e-5);
    ASN_REQUIRE_CLOSE(r.running_mean.to(DType::f64), channel_tensor(ref.running_mean), 1e-5, 1e-5);
    ASN_REQUIRE_CLOSE(r.running_var.to(DType::f64), channel_tensor(ref.running_var), 1e-5, 1e-5);
    ASN_REQUIRE_CLOSE(r.dx.to(DType::f64), gref.dx, 1e-5, 1e-5);
    ASN_REQUIRE_CLOSE(r.dgamma.to(DType::f64), channel_tensor(gref.dgamma), 1e-5, 1e-5);
    ASN_REQUIRE_CLOSE(r.dbeta.to(DType::f64), channel_tensor(gref.dbeta), 1e-5, 1e-5);

    // The same call again gives bitwise the same results (fixed partition, fixed combine order).
    BnRun r2 = run_bn(false, x, gamma, beta, rm, rv, opt, dy);
    REQUIRE(r2.y.to_vector<float>() == r.y.to_vector<float>());
    REQUIRE(r2.dx.to_vector<float>() == r.dx.to_vector<float>());
    REQUIRE(r2.dgamma.to_vector<float>() == r.dgamma.to_vector<float>());
    REQUIRE(r2.running_var.to_vector<float>() == r.running_var.to_vector<float>());

    // The fused BN + ReLU at this size.
    BnRun f = run_bn(true, x, gamma, beta, rm, rv, opt, dy);
    ASN_REQUIRE_CLOSE(f.y.to(DType::f64), ref_relu, 1e-5, 1e-5);
  }
}

TEST_CASE("batch_norm: errors name the op and the shapes", "[batch_norm]") {
  Variable x(Tensor::zeros(Shape{2, 3, 5, 3, 4}, DType::f32));
  Variable g5(Tensor::zeros(Shape{5}, DType::f32));
  Variable g4(Tensor::zeros(Shape{4}, DType::f32));
  Variable rm(Tensor::zeros(Shape{4}, DType::f32)), rv(Tensor::full(Shape{4}, 1.0, DType::f32));
  REQUIRE_THROWS_WITH(batch_norm(x, g5, Variable(), rm, rv),
                      Catch::Contains("batch_norm: gamma must have shape (4,)") &&
                          Catch::Contains("(2, 3, 5, 3, 4)") && Catch::Contains("(5,)"));
  REQUIRE_THROWS_WITH(batch_norm_relu(x, g4, Variable(Tensor::zeros(Shape{4}, DType::f64)), rm, rv),
                      Catch::Contains("batch_norm_relu: beta is f64 (4,)") &&
                          Catch::Contains("f32 (2, 3, 5, 3, 4)"));
  REQUIRE_THROWS_WITH(
      batch_norm(x, g4, g4, Variable(Tensor::zeros(Shape{3}, DType::f32)), rv),
      Catch::Contains("batch_norm: running_mean must have shape (4,)") && Catch::Contains("(3,)"));
  REQUIRE_THROWS_WITH(
      batch_norm(Variable(Tensor::zeros(Shape{4}, DType::f32)), g4, g4, rm, rv),
      Catch::Contains("batch_norm: x must have rank >= 2") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(batch_norm(x, g4, g4, Variable(), Variable(), BatchNormOptions{false}),
                      Catch::Contains("batch_norm: evaluation mode needs running_mean") &&
                          Catch::Contains("(2, 3, 5, 3, 4)"));
  Variable trainable(Tensor::zeros(Shape{4}, DType::f32), true, "moving_mean");
  REQUIRE_THROWS_WITH(batch_norm(x, g4, g4, trainable, rv),
                      Catch::Contains("batch_norm: the running statistics are buffers") &&
                          Catch::Contains("moving_mean"));
  REQUIRE_THROWS_WITH(
      batch_norm(Variable(Tensor::zeros(Shape{2, 4}, DType::i32)), g4, g4, rm, rv),
      Catch::Contains("batch_norm: x must be f32 or f64") && Catch::Contains("i32 (2, 4)"));
}
