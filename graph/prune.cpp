// Connectivity pruning (see prune.h).
#include "graph/prune.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"

namespace asn::graph {

Structure prune_structure(const Structure& s, const std::vector<std::vector<double>>& weights,
                          const PruneOptions& opt, PruneReport* report) {
  ASN_CHECK(weights.size() == s.nodes.size(), "prune: {} weight lists for {} nodes", weights.size(), s.nodes.size());
  ASN_CHECK(opt.threshold >= 0 && opt.threshold < 1, "prune: threshold {} must be in [0, 1)", opt.threshold);
  ASN_CHECK(opt.top_k >= 0, "prune: top_k {} must be >= 0", opt.top_k);
  PruneReport rep;
  rep.nodes_before = static_cast<int>(s.nodes.size());

  // 1. Choose the surviving edges of every block node.
  std::vector<Node> nodes = s.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& n = nodes[i];
    if (n.is_stem) continue;
    rep.edges_before += static_cast<int>(n.inputs.size());
    if (n.inputs.size() == 1) continue;
    const std::vector<double>& w = weights[i];
    ASN_CHECK(w.size() == n.inputs.size(), "prune: node {} has {} inputs but {} weights", i, n.inputs.size(), w.size());
    std::vector<size_t> order(w.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
    std::vector<size_t> keep;
    for (size_t k : order) {
      if (w[k] < opt.threshold) break;
      if (opt.top_k > 0 && static_cast<int>(keep.size()) >= opt.top_k) break;
      keep.push_back(k);
    }
    if (keep.empty()) keep.push_back(order[0]);
    std::sort(keep.begin(), keep.end());  // keep the listed order
    std::vector<int> ins;
    std::vector<double> ws;
    for (size_t k : keep) {
      ins.push_back(n.inputs[k]);
      ws.push_back(w[k]);
    }
    n.inputs = ins;
    n.edge_weights = ins.size() > 1 ? ws : std::vector<double>{};
  }

  // 2. Keep the nodes that reach a level-3 node (walk backwards from the level-3 nodes).
  std::vector<bool> alive(nodes.size(), false);
  for (size_t i = nodes.size(); i-- > 0;) {
    if (nodes[i].level == 3) alive[i] = true;
    if (!alive[i]) continue;
    for (int j : nodes[i].inputs) alive[static_cast<size_t>(j)] = true;
  }
  rep.new_index.assign(nodes.size(), -1);
  Structure out = s;
  out.nodes.clear();
  out.learn_edge_weights = false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!alive[i]) {
      rep.dropped_nodes.push_back(static_cast<int>(i));
      continue;
    }
    rep.new_index[i] = static_cast<int>(out.nodes.size());
    Node n = nodes[i];
    for (int& j : n.inputs) j = rep.new_index[static_cast<size_t>(j)];
    rep.edges_after += static_cast<int>(n.inputs.size());
    out.nodes.push_back(n);
  }
  bool has_object = false;
  for (const Node& n : out.nodes) has_object = has_object || (n.is_stem && n.stem == StemType::Object);
  if (!has_object) out.object_input = false;
  rep.nodes_after = static_cast<int>(out.nodes.size());
  if (report) *report = rep;
  // The result must be a valid structure on its own.
  return parse_structure(to_json(out), s.source + " (pruned)");
}

}  // namespace asn::graph
