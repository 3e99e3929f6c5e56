// Pruning learned connectivity (round trip through a valid structure) and DOT drawing.
#include <catch2/catch.hpp>

#include "graph/draw.h"
#include "graph/prune.h"

using namespace asn;
using namespace asn::graph;

namespace {
Structure learned() {
  return parse_structure(nlohmann::json::parse(R"({
    "family": "assemblenet", "depth": 26, "num_classes": 4,
    "nodes": [[-1, 1], [-2, 1], [-1, 2], [0, [0, 1], 8, 1, 1], [0, [2], 8, 1, 1], [1, [0, 3, 4], 8, 2, 2],
              [3, [3, 5], 8, 1, 2]],
    "edge_weights": []
  })"), "learned.json");
}
}  // namespace

TEST_CASE("prune: keeps strong edges, fixes their weights, drops dead nodes", "[graph][prune]") {
  Structure s = learned();
  std::vector<std::vector<double>> w{{}, {}, {}, {0.9, 0.2}, {}, {0.7, 0.6, 0.1}, {0.8, 0.55}};
  PruneReport rep;
  Structure p = prune_structure(s, w, PruneOptions{0.5, 0}, &rep);
  // Node 3 keeps input 0 only; node 5 keeps 0 and 3; node 4 and stem 2 no longer reach the head,
  // and stem 1 (flow) neither.
  REQUIRE(rep.dropped_nodes == std::vector<int>{1, 2, 4});
  REQUIRE(rep.edges_before == 8);
  REQUIRE(rep.edges_after == 5);
  REQUIRE(p.nodes.size() == 4);
  REQUIRE_FALSE(p.learn_edge_weights);
  REQUIRE(p.nodes[1].inputs == std::vector<int>{0});
  REQUIRE(p.nodes[1].edge_weights.empty());
  REQUIRE(p.nodes[2].inputs == std::vector<int>{0, 1});
  REQUIRE(p.nodes[2].edge_weights == std::vector<double>{0.7, 0.6});
  REQUIRE(p.nodes[3].inputs == std::vector<int>{1, 2});
  REQUIRE(p.nodes[3].edge_weights == std::vector<double>{0.8, 0.55});
  // Round trip: the pruned structure serialises and loads unchanged.
  Structure again = parse_structure(to_json(p), "again");
  REQUIRE(to_json(again) == to_json(p));

  // top_k = 1 keeps only the strongest input of every node.
  Structure k1 = prune_structure(s, w, PruneOptions{0.0, 1});
  for (const Node& n : k1.nodes) REQUIRE(n.inputs.size() <= 1);
  // A node whose edges all fall below the threshold keeps its strongest one.
  Structure hi = prune_structure(s, w, PruneOptions{0.95, 0});
  REQUIRE(hi.nodes.back().inputs.size() == 1);
  REQUIRE_THROWS_WITH(prune_structure(s, {{}, {}}, PruneOptions{}), Catch::Contains("2 weight lists for 7 nodes"));
  REQUIRE_THROWS_WITH(prune_structure(s, w, PruneOptions{1.5, 0}), Catch::Contains("threshold"));
}

TEST_CASE("draw: DOT with ranks, weights as widths and labels", "[graph][draw]") {
  Structure s = learned();
  std::string dot = structure_to_dot(s);
  REQUIRE_THAT(dot, Catch::Contains("digraph") && Catch::Contains("style=dashed") && Catch::Contains("-> head"));
  std::vector<std::vector<double>> w{{}, {}, {}, {0.9, 0.2}, {}, {0.7, 0.6, 0.1}, {0.8, 0.55}};
  dot = structure_to_dot(s, w);
  REQUIRE_THAT(dot, Catch::Contains("n0 -> n3 [penwidth=3.90, label=\"0.90\"]"));
  REQUIRE_THAT(dot, Catch::Contains("rank=same; n3; n4;"));
  REQUIRE_THAT(dot, Catch::Contains("RGB stem") && Catch::Contains("flow stem"));
}
