// asn-structure end to end: summary totals, validate errors, draw, the prune round trip from a
// trained weights file, and run writing logits and node outputs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "graph/network.h"
#include "graph/weights.h"
#include "tests/support/random.h"
#include "tests/support/process.h"

using namespace asn;
namespace fs = std::filesystem;

namespace {

std::string tool() { return std::string(ASN_BINARY_DIR) + "/apps/asn-structure/asn-structure"; }
std::string structure(const std::string& name) { return std::string(ASN_SOURCE_DIR) + "/structures/" + name; }

std::pair<int, std::string> run(const std::string& cmd) { return asn::test::run_command(cmd); }

}  // namespace

TEST_CASE("asn-structure: summary prints the reference totals", "[apps][structure]") {
  auto [code, out] = run(tool() + " summary " + structure("assemblenet50.json") + " --input 32x224x224 --json");
  INFO(out);
  REQUIRE(code == 0);
  auto j = nlohmann::json::parse(out);
  REQUIRE(j["trainable_params"] == 36900957);
  REQUIRE(j["nodes"].size() == 17);  // flow layer + 15 nodes + head
  auto [code2, table] = run(tool() + " summary " + structure("assemblenet_plus_lite.json"));
  REQUIRE(code2 == 0);
  REQUIRE_THAT(table, Catch::Contains("50033333 trainable parameters"));
}

TEST_CASE("asn-structure: validate reports the problem and fails", "[apps][structure][errors]") {
  const std::string bad = "/tmp/asn_bad_structure.json";
  std::ofstream(bad) << R"({"family": "assemblenet", "nodes": [[-1, 1], [0, [3], 8, 1, 1], [3, [1], 8, 1, 2]],
                            "edge_weights": []})";
  auto [code, out] = run(tool() + " validate " + bad + " " + structure("assemblenet50.json"));
  REQUIRE(code == 1);
  REQUIRE_THAT(out, Catch::Contains("nodes[1][1][0]") && Catch::Contains("out of range") &&
                        Catch::Contains("assemblenet50.json: ok"));
  fs::remove(bad);
}

TEST_CASE("asn-structure: prune round trip from learned weights, then run", "[apps][structure]") {
  const std::string dir = "/tmp/asn_prune_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // A learned-connectivity copy of the tiny structure, with weights whose gates we set by hand.
  graph::Structure s = graph::load_structure(structure("tiny_assemblenet.json"));
  s.learn_edge_weights = true;
  for (auto& n : s.nodes) n.edge_weights.clear();
  graph::save_structure(s, dir + "/learned.json");
  graph::Network net(s, graph::InputSpec{2, 16, 16});
  net.initialize(DType::f32, Device::cpu(), 1);
  // node 5 inputs [0, 3, 4]: gates 0.9, 0.2, 0.7 -> keep 0 and 4 at threshold 0.5.
  const std::vector<float> logits{2.1972246f, -1.3862944f, 0.8472979f};
  Tensor g = net.parameters().find("node_5/fusion/edge_logits").var.value();
  g.copy_from(Tensor::from_vector<float>(Shape{3}, logits));
  graph::save_weights(net.parameters(), dir + "/weights.safetensors");

  auto [code, out] = run(tool() + " prune " + dir + "/learned.json --weights " + dir +
                         "/weights.safetensors --threshold 0.5 -o " + dir + "/pruned.json");
  INFO(out);
  REQUIRE(code == 0);
  graph::Structure p = graph::load_structure(dir + "/pruned.json");
  REQUIRE_FALSE(p.learn_edge_weights);
  // node 3 (input 0 only) is no longer reachable from the head -> dropped; node 5 becomes node 4.
  bool found = false;
  for (const auto& n : p.nodes) {
    if (n.level == 1) {
      found = true;
      REQUIRE(n.inputs.size() == 2);
      REQUIRE(n.edge_weights[0] == Approx(0.9).epsilon(1e-5));
      REQUIRE(n.edge_weights[1] == Approx(0.7).epsilon(1e-5));
    }
  }
  REQUIRE(found);

  // Run the pruned structure on an input tensor.
  io::save_safetensors(dir + "/input.safetensors", {{"rgb", test::random_uniform(Shape{1, 2, 16, 16, 3}, 3, 0, 1, DType::f32)}});
  auto [rc, rout] = run(tool() + " run " + dir + "/pruned.json --input-tensor " + dir + "/input.safetensors -o " + dir +
                        "/out.safetensors");
  INFO(rout);
  REQUIRE(rc == 0);
  io::SafetensorsFile o = io::load_safetensors(dir + "/out.safetensors");
  REQUIRE(o.get("logits").shape() == Shape{1, p.num_classes});
  REQUIRE(o.contains("node_0/output"));
  REQUIRE(o.contains("flow"));
  // Loading weights that do not match the model is a clear error.
  auto [wc, wout] = run(tool() + " run " + dir + "/pruned.json --input-tensor " + dir + "/input.safetensors --weights " +
                        dir + "/input.safetensors -o " + dir + "/o2.safetensors");
  REQUIRE(wc == 2);
  REQUIRE_THAT(wout, Catch::Contains("weights do not match the model") && Catch::Contains("missing"));
  fs::remove_all(dir);
}

TEST_CASE("asn-structure: run --gradients writes every parameter's and the input's gradient", "[apps][structure]") {
  const std::string dir = "/tmp/asn_run_grads";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const graph::Structure s = graph::load_structure(structure("tiny_assemblenet.json"));
  const Tensor seed = test::random_uniform(Shape{2, s.num_classes}, 5, -1, 1, DType::f32);
  io::save_safetensors(dir + "/input.safetensors",
                       {{"rgb", test::random_uniform(Shape{2, 2, 16, 16, 3}, 4, 0, 1, DType::f32)}, {"logits_grad", seed}});
  auto [rc, out] = run(tool() + " run " + structure("tiny_assemblenet.json") + " --input-tensor " + dir +
                       "/input.safetensors --batch-stats --gradients -o " + dir + "/out.safetensors");
  INFO(out);
  REQUIRE(rc == 0);
  io::SafetensorsFile o = io::load_safetensors(dir + "/out.safetensors");
  graph::Network net(s, graph::InputSpec{2, 16, 16});
  int grads = 0;
  for (const auto& e : net.parameters().entries()) {
    if (!e.options.trainable) continue;
    REQUIRE(o.get("grad/" + e.name).shape() == e.var.shape());
    ++grads;
  }
  REQUIRE(grads > 10);
  REQUIRE(o.get("grad/rgb").shape() == Shape{2, 2, 16, 16, 3});
  // d(sum(logits * g)) / d(head bias) = sum over the batch of g: exact.
  const std::vector<float> db = o.get("grad/head/dense/bias").to_vector<float>(), g = seed.to_vector<float>();
  for (int64_t k = 0; k < s.num_classes; ++k) REQUIRE(db[static_cast<size_t>(k)] == Approx(g[k] + g[s.num_classes + k]).margin(1e-6));
  // In double precision (for comparisons with a double-precision reference) everything is f64.
  auto [rc64, out64] = run(tool() + " run " + structure("tiny_assemblenet.json") + " --input-tensor " + dir +
                           "/input.safetensors --batch-stats --gradients --dtype f64 -o " + dir + "/out64.safetensors");
  INFO(out64);
  REQUIRE(rc64 == 0);
  io::SafetensorsFile o64 = io::load_safetensors(dir + "/out64.safetensors");
  REQUIRE(o64.get("logits").dtype() == DType::f64);
  REQUIRE(o64.get("grad/rgb").dtype() == DType::f64);
  const std::vector<double> l32 = o.get("logits").to_vector<double>(), l64 = o64.get("logits").to_vector<double>();
  for (size_t i = 0; i < l32.size(); ++i) REQUIRE(l32[i] == Approx(l64[i]).margin(1e-4));
  // Without logits_grad, --gradients is a clear error.
  io::save_safetensors(dir + "/plain.safetensors", {{"rgb", test::random_uniform(Shape{2, 2, 16, 16, 3}, 4, 0, 1, DType::f32)}});
  auto [ec, eout] = run(tool() + " run " + structure("tiny_assemblenet.json") + " --input-tensor " + dir +
                        "/plain.safetensors --gradients -o " + dir + "/o2.safetensors");
  REQUIRE(ec == 2);
  REQUIRE_THAT(eout, Catch::Contains("--gradients needs a tensor 'logits_grad'"));
  fs::remove_all(dir);
}
