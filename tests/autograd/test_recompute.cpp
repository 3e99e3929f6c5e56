// The memory-saving mode (autograd/recompute.h): batch-norm outputs that feed a convolution are
// freed after the forward pass and rebuilt in backward. Checked: gradients bit for bit equal to the
// normal mode (BN with and without the fused ReLU, f32 and f64), the output really is freed and
// rebuilt exactly once, a value still held elsewhere is reused instead of rebuilt, and the guard's
// scoping. A whole AssembleNet++Lite step in this mode: tests/autograd/test_checkpoint.cpp.
#include <catch2/catch.hpp>

#include <memory>

#include "autograd/functions/batch_norm.h"
#include "autograd/functions/conv3d.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// conv -> batch norm (+ ReLU) -> conv on (1, 3, 5, 6, 4), and every gradient.
struct ChainRun {
  std::vector<Tensor> grads;  // x, w1, gamma, beta, w2
  std::weak_ptr<Storage> bn_output;
  std::shared_ptr<Recomputable> rc;
};

ChainRun run_chain(bool recompute, bool relu, bool keep_bn_output, DType dt) {
  tape().clear();
  Variable x(test::random_uniform(Shape{1, 3, 5, 6, 4}, 11, -1, 1, dt), true, "x");
  Variable w1(test::random_uniform(Shape{6, 1, 3, 3, 4}, 12, -0.5, 0.5, dt), true, "w1");
  Variable gamma(test::random_uniform(Shape{6}, 13, 0.5, 1.5, dt), true, "gamma");
  Variable beta(test::random_uniform(Shape{6}, 14, -0.3, 0.3, dt), true, "beta");
  Variable w2(test::random_uniform(Shape{5, 3, 1, 1, 6}, 15, -0.5, 0.5, dt), true, "w2");
  Variable mean(Tensor::zeros(Shape{6}, dt), false), var(Tensor::full(Shape{6}, 1.0, dt), false);
  const auto same3 = kernels::Conv3dParams::same({1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {3, 5, 6});
  const auto pointwise = kernels::Conv3dParams::same({3, 1, 1}, {1, 1, 1}, {1, 1, 1}, {3, 5, 6});
  ChainRun r;
  Variable z, kept;
  {
    RecomputeGuard guard(recompute);
    Variable e = conv3d(x, w1, same3);
    Variable y = relu ? batch_norm_relu(e, gamma, beta, mean, var) : batch_norm(e, gamma, beta, mean, var);
    z = conv3d(y, w2, pointwise);
    r.bn_output = y.value().storage();
    r.rc = y.recomputable();
    if (keep_bn_output) kept = y;
  }
  if (recompute && !keep_bn_output) REQUIRE(r.bn_output.expired());  // freed after the forward
  if (!recompute) REQUIRE_FALSE(r.bn_output.expired());              // saved by the second conv
  backward(z, test::random_uniform(z.shape(), 16, -1, 1, dt));
  r.grads = {x.grad(), w1.grad(), gamma.grad(), beta.grad(), w2.grad()};
  return r;
}

void require_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("gradient " << i);
    REQUIRE(a[i].to_vector<double>() == b[i].to_vector<double>());
  }
}

}  // namespace

TEST_CASE("recompute: batch norm outputs are freed after forward and rebuilt once, same gradients",
          "[autograd][recompute]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (bool relu : {true, false}) {
      INFO("dtype " << dtype_name(dt) << ", relu " << relu);
      const ChainRun normal = run_chain(false, relu, false, dt);
      REQUIRE(normal.rc == nullptr);
      const ChainRun saving = run_chain(true, relu, false, dt);
      REQUIRE(saving.rc != nullptr);
      REQUIRE(saving.rc->recomputations() == 1);  // the conv rebuilt it; the BN reused it
      require_bitwise_equal(normal.grads, saving.grads);
    }
  }
}

TEST_CASE("recompute: a batch norm output still held elsewhere is reused, not rebuilt",
          "[autograd][recompute]") {
  const ChainRun normal = run_chain(false, true, true, DType::f32);
  const ChainRun kept = run_chain(true, true, true, DType::f32);
  REQUIRE(kept.rc != nullptr);
  REQUIRE(kept.rc->recomputations() == 0);
  require_bitwise_equal(normal.grads, kept.grads);
}

TEST_CASE("recompute: off by default, scoped by the guard, never attached without a tape",
          "[autograd][recompute]") {
  REQUIRE_FALSE(recompute_enabled());
  {
    RecomputeGuard on(true);
    REQUIRE(recompute_enabled());
    {
      RecomputeGuard off(false);
      REQUIRE_FALSE(recompute_enabled());
    }
    REQUIRE(recompute_enabled());
    // Under no-grad nothing is recorded, so nothing may be rebuilt later either.
    NoGradGuard no_grad;
    Variable x(test::random_uniform(Shape{2, 3}, 1, -1, 1, DType::f32), true);
    Variable mean(Tensor::zeros(Shape{3}), false), var(Tensor::full(Shape{3}, 1.0), false);
    REQUIRE(batch_norm_relu(x, Variable(), Variable(), mean, var).recomputable() == nullptr);
  }
  REQUIRE_FALSE(recompute_enabled());
}
