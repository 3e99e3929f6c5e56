// Losses: softmax cross-entropy (index labels, one-hot / soft targets, label smoothing) and sigmoid
// binary cross-entropy. Forward against hand-computed values and the naive oracle, stability at
// |z| = 1000, backward by gradcheck in f64, and the error messages.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/functions/loss.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "kernels/tensor_ops.h"
#include "tests/oracles/loss_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

Tensor labels_of(const std::vector<int32_t>& v) {
  return Tensor::from_vector<int32_t>(Shape{static_cast<int64_t>(v.size())}, v);
}

Tensor f64(const Shape& s, const std::vector<double>& v) {
  return Tensor::from_vector<double>(s, v);
}

// Loss value and logits gradient (from ag::backward with the default seed 1).
struct LossAndGrad {
  double loss;
  Tensor grad;
};

template <class F>
LossAndGrad eval(const Tensor& logits, F&& loss_fn) {
  tape().clear();
  Variable z(logits.clone(), true, "logits");
  Variable l = loss_fn(z);
  REQUIRE(l.shape() == Shape{1});
  REQUIRE(l.dtype() == logits.dtype());
  const double value = l.value().item();
  backward(l);
  return {value, z.grad()};
}

// Positive soft targets whose rows sum to 1.
std::vector<double> soft_targets(int64_t B, int64_t K, uint64_t seed) {
  std::vector<double> t = test::random_uniform(Shape{B, K}, seed, 0.05, 1.0).to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += t[b * K + k];
    for (int64_t k = 0; k < K; ++k) t[b * K + k] /= s;
  }
  return t;
}

}  // namespace

TEST_CASE("softmax_cross_entropy: hand-computed 2x3, index labels and one-hot agree", "[loss]") {
  // Row 0: z = (1, 2, 3), label 2; row 1: z = (1, 0, -1), label 1.
  // lse(1, 2, 3) = 3.40760596444438, lse(1, 0, -1) = 1.40760596444438 (the same row shifted by 2).
  const Tensor z = f64(Shape{2, 3}, {1, 2, 3, 1, 0, -1});
  const double lse0 = 3.40760596444438, lse1 = 1.4076059644443804;
  const std::vector<double> p0 = {std::exp(1 - lse0), std::exp(2 - lse0), std::exp(3 - lse0)};
  const std::vector<double> p1 = {std::exp(1 - lse1), std::exp(0 - lse1), std::exp(-1 - lse1)};

  for (double s : {0.0, 0.1}) {
    INFO("label_smoothing " << s);
    // t' = 0.9 one-hot + 0.1 / 3; loss_b = lse_b - sum_k t'_k z_k.
    const double u = s / 3;
    const double row0 = lse0 - ((1 - s) * 3 + u * (1 + 2 + 3));
    const double row1 = lse1 - ((1 - s) * 0 + u * (1 + 0 - 1));
    if (s == 0.0) {
      REQUIRE(row0 == Approx(0.40760596444438).epsilon(1e-14));
      REQUIRE(row1 == Approx(1.4076059644443804).epsilon(1e-14));
    } else {
      REQUIRE(row0 == Approx(0.50760596444438).epsilon(1e-14));
    }
    const double expected = (row0 + row1) / 2;
    // (softmax - t') / B
    const Tensor expected_grad =
        f64(Shape{2, 3}, {(p0[0] - u) / 2, (p0[1] - u) / 2, (p0[2] - (1 - s) - u) / 2,
                          (p1[0] - u) / 2, (p1[1] - (1 - s) - u) / 2, (p1[2] - u) / 2});

    const Tensor idx = labels_of({2, 1});
    const Tensor onehot = f64(Shape{2, 3}, {0, 0, 1, 0, 1, 0});
    for (const Tensor& lab : {idx, onehot}) {
      INFO("labels " << describe(lab));
      LossAndGrad r = eval(z, [&](const Variable& v) { return softmax_cross_entropy(v, lab, s); });
      REQUIRE(r.loss == Approx(expected).epsilon(1e-14));
      ASN_REQUIRE_CLOSE(r.grad, expected_grad, 1e-13, 1e-15);
    }
    // f32 logits, both label forms.
    const Tensor z32 = z.to(DType::f32);
    for (const Tensor& lab : {idx, onehot.to(DType::f32)}) {
      LossAndGrad r =
          eval(z32, [&](const Variable& v) { return softmax_cross_entropy(v, lab, s); });
      REQUIRE(r.loss == Approx(expected).epsilon(1e-6));
      ASN_REQUIRE_CLOSE(r.grad.to(DType::f64), expected_grad, 1e-5, 1e-7);
    }
  }
}

TEST_CASE("softmax_cross_entropy: matches the naive oracle (soft targets, smoothing)", "[loss]") {
  const int64_t B = 5, K = 7;
  const Tensor z = test::random_uniform(Shape{B, K}, 101, -4, 4);
  const std::vector<double> zv = z.to_vector<double>();
  const std::vector<int32_t> lab = {3, 0, 6, 6, 2};
  const std::vector<double> soft = soft_targets(B, K, 102);
  for (double s : {0.0, 0.2}) {
    INFO("label_smoothing " << s);
    // Soft targets.
    LossAndGrad r = eval(z, [&](const Variable& v) {
      return softmax_cross_entropy(v, f64(Shape{B, K}, soft), s);
    });
    REQUIRE(r.loss ==
            Approx(test::oracle::softmax_cross_entropy(zv, soft, B, K, s)).epsilon(1e-13));
    ASN_REQUIRE_CLOSE(r.grad,
                      f64(Shape{B, K}, test::oracle::softmax_cross_entropy_grad(zv, soft, B, K, s)),
                      1e-12, 1e-15);
    // Index labels, f64 and f32.
    const std::vector<double> oh = test::oracle::one_hot(lab, K);
    const double want = test::oracle::softmax_cross_entropy(zv, oh, B, K, s);
    const Tensor want_grad =
        f64(Shape{B, K}, test::oracle::softmax_cross_entropy_grad(zv, oh, B, K, s));
    r = eval(z, [&](const Variable& v) { return softmax_cross_entropy(v, labels_of(lab), s); });
    REQUIRE(r.loss == Approx(want).epsilon(1e-13));
    ASN_REQUIRE_CLOSE(r.grad, want_grad, 1e-12, 1e-15);
    r = eval(z.to(DType::f32),
             [&](const Variable& v) { return softmax_cross_entropy(v, labels_of(lab), s); });
    REQUIRE(r.loss == Approx(want).epsilon(1e-6));
    ASN_REQUIRE_CLOSE(r.grad.to(DType::f64), want_grad, 1e-5, 1e-7);
  }
}

TEST_CASE("softmax_cross_entropy: stable at |z| = 1000", "[loss]") {
  // Row 0: label 1 sits 2000 below the max; row 1: the label is the max. lse = 1000 in both rows
  // (to far below double precision), softmax = (1, 0, 0) and (0, 0, 1).
  const std::vector<double> zv = {1000, -1000, 0, -1000, -1000, 1000};
  const Tensor lab = labels_of({1, 2});
  const double u = 0.1 / 3;                                 // smoothing 0.1 over K = 3
  const double row0 = u * 0 + (0.9 + u) * 2000 + u * 1000;  // sum_k t'_k (lse - z_k)
  const double row1 = u * 2000 + u * 2000 + (0.9 + u) * 0;
  const Tensor want_grad =
      f64(Shape{2, 3}, {(1 - u) / 2, -(0.9 + u) / 2, -u / 2, -u / 2, -u / 2, (0.1 - u) / 2});
  for (DType dt : {DType::f64, DType::f32}) {
    INFO(dtype_name(dt));
    LossAndGrad r = eval(f64(Shape{2, 3}, zv).to(dt),
                         [&](const Variable& v) { return softmax_cross_entropy(v, lab, 0.1); });
    REQUIRE(std::isfinite(r.loss));
    REQUIRE(r.loss == Approx((row0 + row1) / 2).epsilon(1e-6));
    REQUIRE(kernels::all_finite(r.grad));
    ASN_REQUIRE_CLOSE(r.grad.to(DType::f64), want_grad, 1e-6, 1e-7);
  }
}

TEST_CASE("softmax_cross_entropy: gradcheck f64", "[loss]") {
  GradcheckOptions opt;
  opt.rtol = 1e-6;
  SECTION("index labels, odd sizes, smoothing") {
    const Tensor lab = labels_of({4, 0, 2});
    GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) { return softmax_cross_entropy(v[0], lab, 0.15); },
        {test::random_uniform(Shape{3, 5}, 7, -3, 3)}, opt);
    INFO(r.report);
    REQUIRE(r.ok);
  }
  SECTION("one row, soft targets") {
    const Tensor t = f64(Shape{1, 7}, soft_targets(1, 7, 8));
    GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) { return softmax_cross_entropy(v[0], t, 0.0); },
        {test::random_uniform(Shape{1, 7}, 9, -3, 3)}, opt);
    INFO(r.report);
    REQUIRE(r.ok);
  }
  SECTION("multi-hot targets that do not sum to 1") {
    const Tensor t = f64(Shape{2, 3}, {1, 1, 0, 0, 0.5, 0});
    GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) { return softmax_cross_entropy(v[0], t, 0.3); },
        {test::random_uniform(Shape{2, 3}, 10, -2, 2)}, opt);
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("softmax_cross_entropy: argument errors name the op", "[loss]") {
  tape().clear();
  Variable z(test::random_uniform(Shape{2, 3}, 1), true);
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, labels_of({0, 3})),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("label 3") &&
                          Catch::Contains("batch row 1") && Catch::Contains("[0, 3)"));
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, labels_of({-1, 0})),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("label -1") &&
                          Catch::Contains("batch row 0"));
  REQUIRE_THROWS_AS(softmax_cross_entropy(z, labels_of({0, 3})), ValueError);
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, labels_of({0, 1, 2})),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("i32 (3,)") &&
                          Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, Tensor::zeros(Shape{2, 4}, DType::f64)),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("(2, 4)") &&
                          Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, Tensor::zeros(Shape{2, 3}, DType::f32)),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("f32 (2, 3)") &&
                          Catch::Contains("f64 (2, 3)"));
  REQUIRE_THROWS_WITH(
      softmax_cross_entropy(z, labels_of({0, 1}), 1.0),
      Catch::Contains("softmax_cross_entropy") && Catch::Contains("label_smoothing"));
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z, labels_of({0, 1}), -0.1),
                      Catch::Contains("label_smoothing"));
  Variable z3(test::random_uniform(Shape{2, 3, 1}, 1), true);
  REQUIRE_THROWS_WITH(softmax_cross_entropy(z3, labels_of({0, 1})),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("rank 2") &&
                          Catch::Contains("(2, 3, 1)"));
  Variable zi(Tensor::zeros(Shape{2, 3}, DType::i32), false);
  REQUIRE_THROWS_WITH(softmax_cross_entropy(zi, labels_of({0, 1})),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("i32 (2, 3)"));
  REQUIRE(tape().size() == 0);
}

TEST_CASE("sigmoid_binary_cross_entropy: hand-computed 2x2 and the oracle", "[loss]") {
  // l(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)).
  const Tensor z = f64(Shape{2, 2}, {0, 2, -1, 3});
  const Tensor t = f64(Shape{2, 2}, {1, 0, 0.5, 1});
  const double l00 = std::log(2.0);                         // z = 0
  const double l01 = 2 + std::log1p(std::exp(-2.0));        // z = 2, t = 0
  const double l10 = 0 + 0.5 + std::log1p(std::exp(-1.0));  // z = -1, t = 0.5
  const double l11 = 3 - 3 + std::log1p(std::exp(-3.0));    // z = 3, t = 1
  const double want = (l00 + l01 + l10 + l11) / 4;
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  const Tensor want_grad =
      f64(Shape{2, 2}, {(0.5 - 1) / 4, (sig(2) - 0) / 4, (sig(-1) - 0.5) / 4, (sig(3) - 1) / 4});
  LossAndGrad r = eval(z, [&](const Variable& v) { return sigmoid_binary_cross_entropy(v, t); });
  REQUIRE(r.loss == Approx(want).epsilon(1e-14));
  ASN_REQUIRE_CLOSE(r.grad, want_grad, 1e-13, 1e-16);
  REQUIRE(want == Approx(test::oracle::sigmoid_bce(z.to_vector<double>(), t.to_vector<double>()))
                      .epsilon(1e-14));

  // Random odd-sized case against the oracle, f64 and f32.
  const int64_t B = 3, K = 11;
  const Tensor zr = test::random_uniform(Shape{B, K}, 31, -5, 5);
  const Tensor tr = test::random_uniform(Shape{B, K}, 32, 0, 1);
  const double w = test::oracle::sigmoid_bce(zr.to_vector<double>(), tr.to_vector<double>());
  const Tensor wg = f64(
      Shape{B, K}, test::oracle::sigmoid_bce_grad(zr.to_vector<double>(), tr.to_vector<double>()));
  r = eval(zr, [&](const Variable& v) { return sigmoid_binary_cross_entropy(v, tr); });
  REQUIRE(r.loss == Approx(w).epsilon(1e-13));
  ASN_REQUIRE_CLOSE(r.grad, wg, 1e-12, 1e-16);
  r = eval(zr.to(DType::f32),
           [&](const Variable& v) { return sigmoid_binary_cross_entropy(v, tr.to(DType::f32)); });
  REQUIRE(r.loss == Approx(w).epsilon(1e-6));
  ASN_REQUIRE_CLOSE(r.grad.to(DType::f64), wg, 1e-5, 1e-8);
}

TEST_CASE("sigmoid_binary_cross_entropy: stable at |z| = 1000", "[loss]") {
  // Losses 1000, 1000, 0, 0; gradients (sigmoid - t) / 4 = (1, -1, 0, 0) / 4.
  const Tensor z = f64(Shape{1, 4}, {1000, -1000, 1000, -1000});
  const Tensor t = f64(Shape{1, 4}, {0, 1, 1, 0});
  for (DType dt : {DType::f64, DType::f32}) {
    INFO(dtype_name(dt));
    LossAndGrad r = eval(
        z.to(dt), [&](const Variable& v) { return sigmoid_binary_cross_entropy(v, t.to(dt)); });
    REQUIRE(r.loss == Approx(500.0).epsilon(1e-7));
    ASN_REQUIRE_CLOSE(r.grad.to(DType::f64), f64(Shape{1, 4}, {0.25, -0.25, 0, 0}), 1e-7, 1e-12);
  }
}

TEST_CASE("sigmoid_binary_cross_entropy: gradcheck f64", "[loss]") {
  for (int64_t B : {1, 3}) {
    const Tensor t = test::random_uniform(Shape{B, 5}, 40 + B, 0, 1);
    GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) { return sigmoid_binary_cross_entropy(v[0], t); },
        {test::random_away_from_zero(Shape{B, 5}, 50 + B, 0.1, 4)});
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("sigmoid_binary_cross_entropy: argument errors name the op", "[loss]") {
  tape().clear();
  Variable z(test::random_uniform(Shape{2, 3}, 1), true);
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(z, f64(Shape{2, 3}, {0, 1, 0, 1.5, 0, 0})),
                      Catch::Contains("sigmoid_binary_cross_entropy") &&
                          Catch::Contains("batch row 1") && Catch::Contains("1.5"));
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(z, Tensor::zeros(Shape{3, 2}, DType::f64)),
                      Catch::Contains("sigmoid_binary_cross_entropy") &&
                          Catch::Contains("(3, 2)") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(z, Tensor::zeros(Shape{2, 3}, DType::f32)),
                      Catch::Contains("sigmoid_binary_cross_entropy") &&
                          Catch::Contains("f32 (2, 3)") && Catch::Contains("f64 (2, 3)"));
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(z, labels_of({0, 1})),
                      Catch::Contains("sigmoid_binary_cross_entropy") && Catch::Contains("i32"));
  Variable z1(test::random_uniform(Shape{6}, 1), true);
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(z1, Tensor::zeros(Shape{6}, DType::f64)),
                      Catch::Contains("sigmoid_binary_cross_entropy") && Catch::Contains("rank 2"));
  REQUIRE(tape().size() == 0);
}
