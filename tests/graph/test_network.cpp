// Networks built from structures: parameter counts and shapes of the published structures (spec
// §1.6, §4.4, §7.6), forward/backward of every published structure at a small input, an end-to-end
// f64 gradient check of tiny networks, and fixed vs learned edge weights.
#include <catch2/catch.hpp>

#include <map>

#include "autograd/functions/loss.h"
#include "autograd/gradcheck.h"
#include "autograd/optim/sgd.h"
#include "autograd/tape.h"
#include "graph/network.h"
#include "kernels/tensor_ops.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::graph;

namespace {

std::string path_of(const std::string& name) { return std::string(ASN_SOURCE_DIR) + "/structures/" + name; }

std::map<std::string, NodeSummary> rows_by_name(const Network& net) {
  std::map<std::string, NodeSummary> m;
  for (const auto& r : net.summary()) m[r.name] = r;
  return m;
}

int64_t total_macs(const Network& net) {
  int64_t m = 0;
  for (const auto& r : net.summary()) m += r.macs;
  return m;
}

}  // namespace

TEST_CASE("network: AssembleNet-50 parameters and shapes match the reference", "[graph][network]") {
  Network net(load_structure(path_of("assemblenet50.json")), InputSpec{32, 224, 224});
  REQUIRE(net.trainable_parameter_count() == 36900957);
  auto rows = rows_by_name(net);
  REQUIRE(rows["node_0"].trainable_params == 9952);   // RGB stem
  REQUIRE(rows["node_2"].trainable_params == 3200);   // flow stem
  for (const char* n : {"node_4", "node_5", "node_6", "node_7"}) REQUIRE(rows[n].trainable_params == 102976);
  for (const char* n : {"node_8", "node_9", "node_10", "node_11"}) REQUIRE(rows[n].trainable_params == 589824);
  REQUIRE(rows["node_12"].trainable_params == 8376320);
  REQUIRE(rows["node_13"].trainable_params == 8343552);
  REQUIRE(rows["node_14"].trainable_params == 17061888);
  REQUIRE(rows["head"].trainable_params == 321693);
  // Spec §1.6 shapes at 224: stems 56 x 32; level 0 56 x 128; level 1 28 x 256; 2: 14 x 1024; 3: 7 x 2048.
  REQUIRE(rows["node_0"].output == Shape{1, 32, 56, 56, 32});
  REQUIRE(rows["node_2"].output == Shape{1, 32, 56, 56, 32});
  REQUIRE(rows["node_4"].output == Shape{1, 32, 56, 56, 128});
  REQUIRE(rows["node_8"].output == Shape{1, 32, 28, 28, 256});
  REQUIRE(rows["node_12"].output == Shape{1, 32, 14, 14, 1024});
  REQUIRE(rows["node_14"].output == Shape{1, 32, 7, 7, 2048});
  // Spec §7.6: about 250.5 G multiply-accumulates at 32 x 224^2.
  REQUIRE(total_macs(net) == Approx(250.5e9).epsilon(0.002));
}

TEST_CASE("network: AssembleNet-101, AssembleNet++ and Lite parameter counts", "[graph][network]") {
  Network a101(load_structure(path_of("assemblenet101.json")), InputSpec{32, 224, 224});
  REQUIRE(a101.trainable_parameter_count() == 53122909);
  REQUIRE(rows_by_name(a101)["head"].trainable_params == 160925);
  REQUIRE(rows_by_name(a101)["node_12"].output == Shape{1, 32, 14, 14, 768});
  REQUIRE(total_macs(a101) == Approx(397e9).epsilon(0.003));

  Network p50(load_structure(path_of("assemblenet_plus50.json")), InputSpec{32, 224, 224});
  REQUIRE(p50.trainable_parameter_count() == 48054173);
  REQUIRE(rows_by_name(p50)["node_4"].output == Shape{1, 32, 56, 56, 151});
  REQUIRE(rows_by_name(p50)["node_11"].output == Shape{1, 32, 28, 28, 512});

  Network prf(load_structure(path_of("assemblenet_plus50_rgb_flow.json")), InputSpec{32, 224, 224});
  REQUIRE(prf.trainable_parameter_count() == 44562161);

  Structure lite = load_structure(path_of("assemblenet_plus_lite.json"));
  Network l224(lite, InputSpec{32, 224, 224});
  REQUIRE(l224.trainable_parameter_count() == 50033333);
  auto lr = rows_by_name(l224);
  REQUIRE(lr["node_0"].output == Shape{1, 32, 112, 112, 24});
  REQUIRE(lr["node_2"].output == Shape{1, 32, 56, 56, 12});
  REQUIRE(lr["node_4"].output == Shape{1, 32, 28, 28, 24});
  REQUIRE(lr["node_8"].output == Shape{1, 32, 14, 14, 68});
  REQUIRE(lr["node_10"].output == Shape{1, 32, 7, 7, 192});
  Network l256(lite, InputSpec{32, 256, 256});
  REQUIRE(l256.trainable_parameter_count() == 50052293);
  lite.lite_fusion_true_channels = true;
  Network lfix(lite, InputSpec{32, 224, 224});
  REQUIRE(lfix.trainable_parameter_count() == 49967141);
}

TEST_CASE("network: every published structure runs forward and backward on 2 x 4 x 64^2", "[graph][network]") {
  for (const char* f : {"assemblenet50.json", "assemblenet101.json", "assemblenet_plus50.json",
                        "assemblenet_plus50_rgb_flow.json", "assemblenet_plus_lite.json"}) {
    INFO(f);
    Structure s = load_structure(path_of(f));
    s.rep_flow_iterations = 3;  // keeps the test quick; the iteration count does not change any shape
    Network net(s, InputSpec{4, 64, 64});
    net.initialize(DType::f32, Device::cpu(), 1);
    NetworkInputs in;
    in.rgb = ag::Variable(test::random_uniform(Shape{2, 4, 64, 64, 3}, 5, 0, 1, DType::f32));
    if (s.object_input)
      in.objects = ag::Variable(test::random_uniform(Shape{2, 4, 64, 64, s.num_object_classes}, 6, 0, 1, DType::f32));
    ag::tape().clear();
    NetworkOutputs out = net.forward(in, /*training=*/true);
    REQUIRE(out.logits.shape() == Shape{2, s.num_classes});
    REQUIRE(out.nodes.size() == s.nodes.size());
    ag::backward(out.logits, test::random_uniform(Shape{2, s.num_classes}, 7, -1, 1, DType::f32));
    REQUIRE(kernels::sum_squares(net.parameters().grads()) > 0);
    REQUIRE(kernels::all_finite(net.parameters().grads()));
    // The shapes the summary infers are the shapes the forward pass produces.
    for (const auto& r : net.summary()) {
      if (r.index < 0) continue;
      const Shape& got = out.nodes[static_cast<size_t>(r.index)].shape();
      REQUIRE(got.with(0, 1) == r.output);
    }
  }
}

TEST_CASE("network: end-to-end f64 gradient check of tiny networks", "[graph][network][gradcheck]") {
  struct Case {
    const char* file;
    Attention attention;
  };
  // Stems (RGB, flow with its flow layer, objects), bottleneck and inverted-bottleneck blocks, fusion
  // with fixed and learned edge weights, peer and self attention, both heads.
  for (Case c : {Case{"tiny_assemblenet.json", Attention::None}, Case{"tiny_assemblenet_plus.json", Attention::Peer},
                 Case{"tiny_assemblenet_plus.json", Attention::Self},
                 Case{"tiny_assemblenet_plus_lite.json", Attention::None}}) {
    INFO(c.file << " attention " << attention_name(c.attention));
    Structure s = load_structure(path_of(c.file));
    s.attention = c.attention;
    s.rep_flow_iterations = 2;
    Network net(s, InputSpec{2, 16, 16});
    net.initialize(DType::f64, Device::cpu(), 3);
    // Move every trainable value off its initial value so no branch is silenced (gamma = 0).
    Tensor jitter = test::random_uniform(Shape{net.parameters().num_trainable()}, 11, -0.3, 0.3);
    kernels::add_inplace(net.parameters().values(), jitter);

    std::vector<Tensor> inputs{test::random_uniform(Shape{2, 2, 16, 16, 3}, 12, 0, 1)};
    if (s.object_input) inputs.push_back(test::random_uniform(Shape{2, 2, 16, 16, s.num_object_classes}, 13, 0, 1));
    std::vector<ag::Variable> params;
    for (const auto& e : net.parameters().entries())
      if (e.options.trainable) params.push_back(e.var);
    auto f = [&](const std::vector<ag::Variable>& v) {
      NetworkInputs in;
      in.rgb = v[0];
      if (v.size() > 1) in.objects = v[1];
      return net.forward(in, /*training=*/true).logits;
    };
    ag::GradcheckOptions opt;
    opt.max_elements_per_tensor = 3;
    opt.rtol = 1e-5;
    opt.atol = 1e-7;
    ag::GradcheckResult r = ag::gradcheck_with_params(f, inputs, params, opt);
    INFO(r.report);
    REQUIRE(r.ok);
  }
}

TEST_CASE("network: fixed edge weights never change, learned ones train", "[graph][network]") {
  for (bool learn : {false, true}) {
    Structure s = load_structure(path_of("tiny_assemblenet.json"));
    if (learn) {
      s.learn_edge_weights = true;
      for (auto& n : s.nodes) n.edge_weights.clear();
    }
    Network net(s, InputSpec{2, 16, 16});
    net.initialize(DType::f32, Device::cpu(), 5);
    const ag::ParamEntry& gate = net.parameters().find("node_5/fusion/edge_logits");
    REQUIRE(gate.options.trainable == learn);
    const std::vector<double> before = net.edge_weights(5);
    if (!learn) {
      REQUIRE(before[0] == Approx(0.6).epsilon(1e-6));
      REQUIRE(before[2] == Approx(0.9).epsilon(1e-6));
    } else {
      for (double w : before) REQUIRE(w == Approx(0.5).margin(0.03));
    }
    ag::Sgd opt(net.parameters(), ag::SgdOptions{0.9, true, 1e-4});
    for (int step = 0; step < 3; ++step) {
      NetworkInputs in;
      in.rgb = ag::Variable(test::random_uniform(Shape{2, 2, 16, 16, 3}, 20 + step, 0, 1, DType::f32));
      net.parameters().zero_grad();
      ag::tape().clear();
      ag::Variable loss = ag::softmax_cross_entropy(net.forward(in, true).logits,
                                                    Tensor::from_vector<int32_t>(Shape{2}, {1, 3}));
      ag::backward(loss);
      opt.step(0.5);
    }
    const std::vector<double> after = net.edge_weights(5);
    for (size_t k = 0; k < after.size(); ++k) {
      if (learn) {
        REQUIRE(after[k] != before[k]);
      } else {
        REQUIRE(after[k] == before[k]);
      }
    }
  }
}

TEST_CASE("network: an input size the fusion resize rule cannot serve fails at construction", "[graph][network][errors]") {
  // 40x40 gives a 10x10 input resized by (10 + 1) / 3 = 3 to 4x4 in node 6, not the 3x3 target.
  const Structure s = load_structure(path_of("tiny_assemblenet_plus_lite.json"));
  REQUIRE_THROWS_AS(Network(s, InputSpec{4, 40, 40}), ShapeError);
  REQUIRE_THROWS_WITH(Network(s, InputSpec{4, 40, 40}),
                      Catch::Contains("fusion of node_6") && Catch::Contains("resized by 3 gives 4x4") &&
                          Catch::Contains("choose another input size"));
  REQUIRE_NOTHROW(Network(s, InputSpec{4, 32, 32}));
}
