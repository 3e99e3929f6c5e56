// Connectivity pruning: turns a structure whose edge weights were learned (the one-shot
// connectivity search of AssembleNet, spec §2.2) into a fixed structure.
//
// For every block node, an edge survives when its learned (post-sigmoid) weight is >= threshold;
// with top_k > 0 at most the k strongest survivors are kept. A node always keeps its strongest edge
// (a block needs an input). Surviving edges keep their learned values as fixed weights (a node left
// with one input takes none). Nodes from which no level-3 node can be reached any more are dropped,
// the rest renumbered in their original order. The result is validated like any structure file.
#pragma once

#include <string>
#include <vector>

#include "graph/structure.h"

namespace asn::graph {

struct PruneOptions {
  double threshold = 0.5;
  int top_k = 0;  // 0: no per-node limit
};

struct PruneReport {
  int edges_before = 0, edges_after = 0;
  int nodes_before = 0, nodes_after = 0;
  std::vector<int> dropped_nodes;  // original indices
  std::vector<int> new_index;      // original index -> new index (-1 when dropped)
};

// weights[i]: the learned post-sigmoid weights of node i, one per input (empty for stems and
// single-input nodes).
Structure prune_structure(const Structure& s, const std::vector<std::vector<double>>& weights,
                          const PruneOptions& options, PruneReport* report = nullptr);

}  // namespace asn::graph
