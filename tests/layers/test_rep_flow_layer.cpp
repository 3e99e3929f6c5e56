// The representation-flow layers: RepFlowLayer (AssembleNet's use on RGB) equals the op with the
// reference's initial values; FeatureRepFlowLayer (spec §5.3, bottleneck > 1 on feature maps) has
// the documented shape, starts as ReLU(x) (its last BN gamma is 0), and its gradients are exact.
#include <catch2/catch.hpp>

#include "autograd/functions/rep_flow.h"
#include "autograd/gradcheck.h"
#include "autograd/parameters.h"
#include "kernels/tensor_ops.h"
#include "layers/rep_flow_layer.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;

TEST_CASE("rep flow layer: declares the nine variables, frozen or trainable", "[layers][rep_flow]") {
  for (bool trainable : {false, true}) {
    ag::Parameters ps;
    layers::RepFlowLayer layer(ps, "rep_flow", 3, trainable);
    Generator g(1);
    ps.finalize(DType::f64, Device::cpu(), g);
    REQUIRE(ps.entries().size() == 9);
    REQUIRE(ps.find("rep_flow/theta").options.trainable == trainable);
    REQUIRE(ps.find("rep_flow/theta").var.value().item() == Approx(0.3));
    REQUIRE(ps.find("rep_flow/img_grad_x").var.value().to_vector<double>() == std::vector<double>{-0.5, 0, 0.5});
    Tensor x = test::random_uniform(Shape{1, 3, 6, 5, 3}, 2, 0, 1);
    ag::RepFlowOptions opt;
    opt.iterations = 3;
    Tensor direct = ag::rep_flow(ag::Variable(x), ag::rep_flow_params(kernels::TvL1Params{}, DType::f64), opt).value();
    ASN_REQUIRE_CLOSE(layer.forward(ag::Variable(x)).value(), direct, 0, 0);
  }
}

TEST_CASE("feature rep flow layer: shape, identity start, exact gradients", "[layers][rep_flow][gradcheck]") {
  ag::Parameters ps;
  layers::FeatureRepFlowLayer layer(ps, "flow_block", /*channels=*/5, /*bottleneck=*/2, /*iterations=*/2, false);
  Generator g(3);
  ps.finalize(DType::f64, Device::cpu(), g);
  Tensor x = test::random_away_from_zero(Shape{1, 3, 5, 4, 5}, 4, 0.2, 1.0);
  ag::Variable y = layer.forward(ag::Variable(x), /*training=*/true);
  REQUIRE(y.shape() == Shape{1, 3, 5, 4, 5});
  // gamma = 0 in the last BN: the block starts as ReLU(x).
  std::vector<double> xv = x.to_vector<double>(), yv = y.value().to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) REQUIRE(yv[i] == Approx(std::max(0.0, xv[i])).margin(1e-12));
  // Move gamma off 0 so every path carries gradient, then check x and the trainable parameters.
  Tensor jitter = test::random_uniform(Shape{ps.num_trainable()}, 5, -0.3, 0.3);
  kernels::add_inplace(ps.values(), jitter);
  std::vector<ag::Variable> params;
  for (const auto& e : ps.entries())
    if (e.options.trainable) params.push_back(e.var);
  REQUIRE(params.size() == 4);  // reduce kernel, expand kernel, gamma, beta
  ag::GradcheckOptions opt;
  opt.rtol = 1e-5;
  opt.atol = 1e-7;
  auto r = ag::gradcheck_with_params(
      [&](const std::vector<ag::Variable>& v) { return layer.forward(v[0], true); }, {x}, params, opt);
  INFO(r.report);
  REQUIRE(r.ok);
  // Errors name the layer's expectation.
  REQUIRE_THROWS_WITH(layer.forward(ag::Variable(Tensor::zeros(Shape{1, 3, 5, 4, 6}, DType::f64)), true),
                      Catch::Contains("must have 5 channels"));
}
