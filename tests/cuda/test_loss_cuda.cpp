// softmax_cross_entropy and sigmoid_binary_cross_entropy on CUDA against the CPU: the kernels with
// NaN-poisoned outputs (index labels, soft targets, label smoothing, one class, many classes),
// |z| = 1000, the autograd losses' value and logit gradient on both devices (the upstream gradient
// read on the device), and the errors for labels on another device or out of range.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/loss.h"
#include "autograd/tape.h"
#include "kernels/loss/row_mean.h"
#include "kernels/loss/sigmoid_binary_cross_entropy.h"
#include "kernels/loss/softmax_cross_entropy.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {


Tensor random_labels(int64_t B, int64_t K, uint64_t seed) {
  const Tensor u = test::random_uniform(Shape{B}, seed, 0, static_cast<double>(K));
  std::vector<int32_t> v;
  for (double d : u.to_vector<double>())
    v.push_back(std::min<int32_t>(static_cast<int32_t>(d), K - 1));
  return Tensor::from_vector<int32_t>(Shape{B}, v);
}

// Soft targets: positive rows that sum to 1.
Tensor soft_targets(int64_t B, int64_t K, uint64_t seed, DType dt) {
  Tensor t = test::random_uniform(Shape{B, K}, seed, 0.05, 1, DType::f64);
  double* p = t.data<double>();
  for (int64_t b = 0; b < B; ++b) {
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += p[b * K + k];
    for (int64_t k = 0; k < K; ++k) p[b * K + k] /= s;
  }
  return t.to(dt);
}

struct LossCase {
  int64_t B, K;
};
const std::vector<LossCase> kCases = {{1, 1}, {3, 5}, {7, 400}, {33, 157}, {2, 1000}, {65, 31}};

template <class T>
void check_sce_kernels(const LossCase& c, bool indices, double smoothing, double scale_z,
                       uint64_t& seed, double tol) {
  const DType dt = dtype_of<T>();
  kernels::SoftmaxCrossEntropyParams p;
  p.batch = c.B;
  p.classes = c.K;
  p.label_smoothing = smoothing;
  const Tensor z = test::random_uniform(Shape{c.B, c.K}, ++seed, -scale_z, scale_z, dt);
  const Tensor lab = random_labels(c.B, c.K, ++seed);
  const Tensor tgt = soft_targets(c.B, c.K, ++seed, dt);
  const Tensor zd = z.to(kGpu), labd = lab.to(kGpu), tgtd = tgt.to(kGpu);
  const int32_t* lc = indices ? lab.data<int32_t>() : nullptr;
  const int32_t* lg = indices ? labd.data<int32_t>() : nullptr;
  const T* tc = indices ? nullptr : tgt.data<T>();
  const T* tg = indices ? nullptr : tgtd.data<T>();

  Tensor loss = Tensor::empty(Shape{c.B}, dt), lse = Tensor::empty(Shape{c.B}, dt);
  kernels::softmax_cross_entropy_forward_cpu<T>(p, z.data<T>(), lc, tc, loss.data<T>(),
                                                lse.data<T>());
  Tensor lossd = poisoned(Shape{c.B}, dt), lsed = poisoned(Shape{c.B}, dt);
  kernels::softmax_cross_entropy_forward_cuda<T>(p, zd.data<T>(), lg, tg, lossd.data<T>(),
                                                 lsed.data<T>(), 0);
  ASN_REQUIRE_CLOSE(lossd, loss, tol, tol);
  ASN_REQUIRE_CLOSE(lsed, lse, tol, tol);

  // The batch mean on the device.
  Tensor mean = poisoned(Shape{1}, dt);
  kernels::row_mean_cuda<T>(lossd.data<T>(), c.B, static_cast<double>(c.B), mean.data<T>(), 0);
  double s = 0;
  for (double v : loss.to_vector<double>()) s += v;
  REQUIRE(mean.item() == Approx(s / static_cast<double>(c.B)).epsilon(tol).margin(tol));

  const double dloss = 0.75;
  Tensor dz = Tensor::empty(z.shape(), dt);
  kernels::softmax_cross_entropy_backward_cpu<T>(p, z.data<T>(), lc, tc, lse.data<T>(),
                                                 dloss / static_cast<double>(c.B), dz.data<T>());
  const Tensor dlossd = Tensor::full(Shape{1}, dloss, dt, kGpu);
  // Both backwards read the CPU's lse: at |z| = 1000 one f32 ulp of lse (6e-5) would otherwise
  // show up as a relative change of the softmax.
  const Tensor lse_cpu_on_gpu = lse.to(kGpu);
  Tensor dzd = poisoned(z.shape(), dt);
  kernels::softmax_cross_entropy_backward_cuda<T>(p, zd.data<T>(), lg, tg, lse_cpu_on_gpu.data<T>(),
                                                  dlossd.data<T>(), static_cast<double>(c.B),
                                                  dzd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(dzd, dz, tol, tol);
}

template <class T>
void check_bce_kernels(const LossCase& c, double scale_z, uint64_t& seed, double tol) {
  const DType dt = dtype_of<T>();
  kernels::SigmoidBceParams p;
  p.batch = c.B;
  p.classes = c.K;
  const Tensor z = test::random_uniform(Shape{c.B, c.K}, ++seed, -scale_z, scale_z, dt);
  const Tensor t = test::random_uniform(Shape{c.B, c.K}, ++seed, 0, 1, dt);
  const Tensor zd = z.to(kGpu), td = t.to(kGpu);
  Tensor loss = Tensor::empty(Shape{c.B}, dt);
  kernels::sigmoid_bce_forward_cpu<T>(p, z.data<T>(), t.data<T>(), loss.data<T>());
  Tensor lossd = poisoned(Shape{c.B}, dt);
  kernels::sigmoid_bce_forward_cuda<T>(p, zd.data<T>(), td.data<T>(), lossd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(lossd, loss, tol, tol);

  const double dloss = -1.25;
  const double count = static_cast<double>(c.B * c.K);
  Tensor dz = Tensor::empty(z.shape(), dt);
  kernels::sigmoid_bce_backward_cpu<T>(p, z.data<T>(), t.data<T>(), dloss / count, dz.data<T>());
  const Tensor dlossd = Tensor::full(Shape{1}, dloss, dt, kGpu);
  Tensor dzd = poisoned(z.shape(), dt);
  kernels::sigmoid_bce_backward_cuda<T>(p, zd.data<T>(), td.data<T>(), dlossd.data<T>(), count,
                                        dzd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(dzd, dz, tol, tol);
}

// Value and logit gradient of a loss on both devices for the same upstream gradient.
template <class F>
void check_autograd(const F& loss_fn, const Tensor& z, double upstream, double tol) {
  Variable zc(z, true);
  Variable lc = loss_fn(zc, Device::cpu());
  backward(lc, Tensor::full(Shape{1}, upstream, z.dtype()));
  Variable zg(z.to(kGpu), true);
  Variable lg = loss_fn(zg, kGpu);
  REQUIRE(lg.device() == kGpu);
  REQUIRE(lg.shape() == Shape{1});
  ASN_REQUIRE_CLOSE(lg.value(), lc.value(), tol, tol);
  backward(lg, Tensor::full(Shape{1}, upstream, z.dtype(), kGpu));
  ASN_REQUIRE_CLOSE(zg.grad(), zc.grad(), tol, tol);
}

}  // namespace

TEST_CASE("cuda loss: softmax cross-entropy kernels match the CPU (outputs poisoned)",
          "[cuda][loss]") {
  uint64_t seed = 11100;
  for (const LossCase& c : kCases) {
    for (bool indices : {true, false}) {
      for (double smoothing : {0.0, 0.1}) {
        INFO("B " << c.B << " K " << c.K << (indices ? " labels" : " soft targets") << " smoothing "
                  << smoothing);
        check_sce_kernels<float>(c, indices, smoothing, 4, seed, 1e-5);
        check_sce_kernels<double>(c, indices, smoothing, 4, seed, 1e-12);
        // Large logits: stable on both devices.
        check_sce_kernels<float>(c, indices, smoothing, 1000, seed, 1e-5);
      }
    }
  }
}

TEST_CASE("cuda loss: sigmoid BCE kernels match the CPU (outputs poisoned)", "[cuda][loss]") {
  uint64_t seed = 11300;
  for (const LossCase& c : kCases) {
    INFO("B " << c.B << " K " << c.K);
    check_bce_kernels<float>(c, 4, seed, 1e-5);
    check_bce_kernels<double>(c, 4, seed, 1e-12);
    check_bce_kernels<float>(c, 1000, seed, 1e-5);
  }
}

TEST_CASE("cuda loss: autograd losses and gradients equal the CPU's", "[cuda][loss]") {
  uint64_t seed = 11500;
  for (const LossCase& c : kCases) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO("B " << c.B << " K " << c.K << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      const Tensor z = test::random_uniform(Shape{c.B, c.K}, ++seed, -3, 3, dt);
      const Tensor lab = random_labels(c.B, c.K, ++seed);
      const Tensor tgt = soft_targets(c.B, c.K, ++seed, dt);
      const Tensor bin = test::random_uniform(Shape{c.B, c.K}, ++seed, 0, 1, dt);
      check_autograd(
          [&](const Variable& v, Device d) { return softmax_cross_entropy(v, lab.to(d)); }, z, 1.0,
          tol);
      check_autograd(
          [&](const Variable& v, Device d) { return softmax_cross_entropy(v, tgt.to(d), 0.1); }, z,
          0.5, tol);
      check_autograd(
          [&](const Variable& v, Device d) { return sigmoid_binary_cross_entropy(v, bin.to(d)); },
          z, 2.0, tol);
    }
  }
}

TEST_CASE("cuda loss: labels on another device or out of range are errors", "[cuda][loss]") {
  const Tensor z = test::random_uniform(Shape{3, 4}, 11700, -1, 1, DType::f32).to(kGpu);
  const Tensor lab = Tensor::from_vector<int32_t>(Shape{3}, {0, 3, 1});
  REQUIRE_THROWS_WITH(softmax_cross_entropy(Variable(z), lab),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("(3,) on cpu") &&
                          Catch::Contains("(3, 4) on cuda:0"));
  const Tensor bad = Tensor::from_vector<int32_t>(Shape{3}, {0, 4, 1}).to(kGpu);
  REQUIRE_THROWS_WITH(softmax_cross_entropy(Variable(z), bad),
                      Catch::Contains("softmax_cross_entropy") && Catch::Contains("label 4") &&
                          Catch::Contains("batch row 1"));
  const Tensor t = test::random_uniform(Shape{3, 4}, 11701, 0, 1, DType::f32);
  REQUIRE_THROWS_WITH(sigmoid_binary_cross_entropy(Variable(z), t),
                      Catch::Contains("sigmoid_binary_cross_entropy") && Catch::Contains("cpu") &&
                          Catch::Contains("cuda:0"));
  Tensor t_bad = t.clone();
  t_bad.data<float>()[5] = 1.5f;
  REQUIRE_THROWS_WITH(
      sigmoid_binary_cross_entropy(Variable(z), t_bad.to(kGpu)),
      Catch::Contains("sigmoid_binary_cross_entropy") && Catch::Contains("batch row 1, class 1"));
}
