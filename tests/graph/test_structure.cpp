// Structure files: the published structures load; every validation rule rejects a bad input with a
// message naming the JSON path and the node; to_json round-trips.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "graph/structure.h"

using namespace asn;
using namespace asn::graph;
using nlohmann::json;

namespace {

std::string path_of(const std::string& name) { return std::string(ASN_SOURCE_DIR) + "/structures/" + name; }

json base() {
  return json::parse(R"({
    "family": "assemblenet", "depth": 26, "num_classes": 4,
    "nodes": [[-1, 1], [-2, 1], [0, [0, 1], 8, 1, 1, 0], [1, [2], 8, 2, 2], [3, [1, 3], 8, 1, 2, 0]],
    "edge_weights": [[], [], [[0.5, 0.25]], [], [[0.75, 0.1]]]
  })");
}

// Applies `mutate` to the base structure and expects a ValueError containing every fragment.
void expect_error(const std::function<void(json&)>& mutate, const std::vector<std::string>& fragments) {
  json j = base();
  mutate(j);
  try {
    parse_structure(j, "test.json");
    FAIL("accepted: " << j.dump());
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    INFO(msg);
    REQUIRE_THAT(msg, Catch::Contains("test.json"));
    for (const auto& f : fragments) REQUIRE_THAT(msg, Catch::Contains(f));
  }
}

}  // namespace

TEST_CASE("structure: the base test structure is valid", "[graph][structure]") {
  Structure s = parse_structure(base(), "test.json");
  REQUIRE(s.nodes.size() == 5);
  REQUIRE(s.num_stems() == 2);
  REQUIRE(s.resolved_stem_filters() == 64);
  REQUIRE(s.blocks_per_level == std::array<int, 4>{2, 2, 2, 2});
  REQUIRE(s.nodes[2].edge_weights == std::vector<double>{0.5, 0.25});
  REQUIRE(s.nodes[3].edge_weights.empty());
  REQUIRE(s.nodes[3].stride == 2);
  REQUIRE(s.rep_flow_iterations == 40);
  REQUIRE_FALSE(s.learn_edge_weights);
}

TEST_CASE("structure: published structures load", "[graph][structure]") {
  Structure a50 = load_structure(path_of("assemblenet50.json"));
  REQUIRE(a50.nodes.size() == 15);
  REQUIRE(a50.resolved_stem_filters() == 32);
  REQUIRE(a50.nodes[14].filters == 512);
  REQUIRE(a50.nodes[8].edge_weights.size() == 5);
  Structure a101 = load_structure(path_of("assemblenet101.json"));
  REQUIRE(a101.blocks_per_level == std::array<int, 4>{3, 4, 23, 3});
  Structure p50 = load_structure(path_of("assemblenet_plus50.json"));
  REQUIRE(p50.resolved_stem_filters() == 25);
  REQUIRE(p50.object_input);
  REQUIRE(p50.attention == Attention::Peer);
  Structure lite = load_structure(path_of("assemblenet_plus_lite.json"));
  REQUIRE(lite.is_lite());
  REQUIRE(lite.rep_flow_iterations == 20);
  REQUIRE(lite.nodes[10].lite_filters == std::array<int, 3>{432, 432, 192});
  REQUIRE(lite.resolved_stem_filters() == 24);
  for (const char* f : {"assemblenet_plus50_rgb_flow.json", "tiny_assemblenet.json", "tiny_assemblenet_plus.json",
                        "tiny_assemblenet_plus_lite.json"})
    REQUIRE_NOTHROW(load_structure(path_of(f)));
}

TEST_CASE("structure: to_json round-trips", "[graph][structure]") {
  for (const char* f : {"assemblenet50.json", "assemblenet_plus50.json", "assemblenet_plus_lite.json",
                        "tiny_assemblenet_plus.json"}) {
    Structure a = load_structure(path_of(f));
    Structure b = parse_structure(to_json(a), "roundtrip");
    REQUIRE(to_json(a) == to_json(b));
  }
}

TEST_CASE("structure validation: input indices", "[graph][structure][errors]") {
  expect_error([](json& j) { j["nodes"][2][1][0] = -1; }, {"nodes[2][1][0]", "node 2", "negative"});
  expect_error([](json& j) { j["nodes"][3][1][0] = 9; }, {"nodes[3][1][0]", "node 3", "out of range"});
  expect_error([](json& j) { j["nodes"][3][1][0] = 3; }, {"nodes[3][1][0]", "not smaller than the node's own index 3"});
  expect_error([](json& j) { j["nodes"][3][1][0] = 4; }, {"node 3", "not smaller"});
  expect_error([](json& j) { j["nodes"][2][1] = {0, 0}; }, {"nodes[2][1][1]", "node 2", "listed twice"});
  expect_error([](json& j) { j["nodes"][3][1] = json::array(); }, {"nodes[3][1]", "at least one input"});
}

TEST_CASE("structure validation: node fields", "[graph][structure][errors]") {
  expect_error([](json& j) { j["nodes"][0][0] = -4; }, {"nodes[0][0]", "unknown stem type -4"});
  expect_error([](json& j) { j["nodes"][3][0] = 4; }, {"nodes[3][0]", "level 4 is outside 0-3"});
  expect_error([](json& j) { j["nodes"][3][2] = 0; }, {"nodes[3][2]", "filters must be positive"});
  expect_error([](json& j) { j["nodes"][3][2] = {8, 8, 4}; }, {"nodes[3][2]", "only valid for assemblenet_plus_lite"});
  expect_error(
      [](json& j) {
        j["family"] = "assemblenet_plus_lite";
        j.erase("depth");
      },
      {"nodes[2][2]", "triple"});
  expect_error([](json& j) { j["nodes"][3][4] = 3; }, {"nodes[3][4]", "stride 3 must be 1 or 2"});
  expect_error([](json& j) { j["nodes"][3][3] = 0; }, {"nodes[3][3]", "temporal dilation 0"});
  expect_error([](json& j) { j["nodes"][0][1] = 0; }, {"nodes[0][1]", "temporal dilation 0"});
  expect_error([](json& j) { j["nodes"][3] = {1, {2}, 8}; }, {"nodes[3]", "5 or 6 elements"});
  expect_error([](json& j) { j["nodes"][0] = {-1, 1, 1}; }, {"nodes[0]", "2 elements"});
}

TEST_CASE("structure validation: edge weights", "[graph][structure][errors]") {
  expect_error([](json& j) { j["edge_weights"][2] = {{0.5}}; }, {"edge_weights[2]", "1 edge weights for 2 inputs"});
  expect_error([](json& j) { j["edge_weights"][2] = {{0.5, 1.0}}; }, {"edge_weights[2][0][1]", "outside (0, 1)"});
  expect_error([](json& j) { j["edge_weights"][4] = {{0.0, 0.5}}; }, {"edge_weights[4][0][0]", "outside (0, 1)"});
  expect_error([](json& j) { j["edge_weights"][2] = json::array(); }, {"edge_weights[2]", "no edge weights"});
  expect_error([](json& j) { j["edge_weights"][3] = {{0.5}}; }, {"edge_weights[3]", "takes no edge weights"});
  expect_error([](json& j) { j["edge_weights"].erase(4); }, {"edge_weights", "4 entries for 5 nodes"});
  // [] learns every edge.
  json j = base();
  j["edge_weights"] = json::array();
  REQUIRE(parse_structure(j, "t").learn_edge_weights);
}

TEST_CASE("structure validation: graph rules", "[graph][structure][errors]") {
  expect_error([](json& j) { j["nodes"][4][0] = 2; }, {"nodes", "no level-3 node"});
  expect_error([](json& j) { j["nodes"][1] = {-3, 1}; }, {"nodes[1][0]", "object stem", "object_input is not enabled"});
  expect_error(
      [](json& j) {
        j["family"] = "assemblenet_plus";
        j["object_input"] = {{"enabled", true}};
      },
      {"object_input.enabled", "no object stem"});
  expect_error([](json& j) { j["attention"] = "peer"; }, {"attention", "needs family assemblenet_plus"});
}

TEST_CASE("structure validation: keys and types", "[graph][structure][errors]") {
  expect_error([](json& j) { j["nodez"] = 1; }, {"unknown key 'nodez'"});
  expect_error([](json& j) { j["rep_flow"] = {{"iters", 3}}; }, {"rep_flow", "unknown key 'iters'"});
  expect_error([](json& j) { j["num_classes"] = "10"; }, {"num_classes", "expected an integer, got a string"});
  expect_error([](json& j) { j["nodes"][2][3] = 1.5; }, {"nodes[2][3]", "expected an integer"});
  expect_error([](json& j) { j["family"] = "resnet"; }, {"family", "unknown family 'resnet'"});
  expect_error([](json& j) { j["depth"] = 34; }, {"depth", "34 is not one of"});
  expect_error([](json& j) { j["attention"] = true; }, {"attention", "expected a string"});
  expect_error([](json& j) { j.erase("family"); }, {"family", "missing"});
  expect_error([](json& j) { j["nodes"] = json::object(); }, {"nodes", "expected an array"});
  REQUIRE_THROWS_WITH(load_structure("/nonexistent/x.json"), Catch::Contains("cannot open structure file"));
}
