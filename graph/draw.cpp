// DOT output of a structure (see draw.h).
#include "graph/draw.h"

#include <sstream>

#include <fmt/format.h>

namespace asn::graph {

std::string structure_to_dot(const Structure& s, const std::vector<std::vector<double>>& weights) {
  std::ostringstream o;
  const std::string title = s.name.empty() ? family_name(s.family) : s.name;
  o << "digraph assemblenet {\n";
  o << "  rankdir=TB;\n  newrank=true;\n";
  o << fmt::format("  label=\"{} ({}, attention: {})\";\n  labelloc=t;\n", title, family_name(s.family),
                   attention_name(s.attention));
  o << "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n";
  const char* level_color[] = {"#dbe9f6", "#c6dbef", "#9ecae1", "#6baed6"};
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    if (n.is_stem) {
      const char* kind = n.stem == StemType::Rgb ? "RGB stem" : n.stem == StemType::Flow ? "flow stem" : "object stem";
      const char* color = n.stem == StemType::Rgb ? "#fdd49e" : n.stem == StemType::Flow ? "#c7e9c0" : "#dadaeb";
      o << fmt::format("  n{} [shape=ellipse, style=filled, fillcolor=\"{}\", label=\"{}: {}\\nd={}\"];\n", i, color, i,
                       kind, n.temporal_dilation);
    } else {
      const std::string f = s.is_lite() ? fmt::format("[{}, {}, {}]", n.lite_filters[0], n.lite_filters[1], n.lite_filters[2])
                                        : fmt::format("{}", n.filters);
      const std::string attn =
          s.attention == Attention::None ? "" : fmt::format("\\n{} attention", attention_name(s.attention));
      o << fmt::format(
          "  n{} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", label=\"{}: level {}\\nf={} x{} blocks\\nstride {}, d={}{}\"];\n",
          i, level_color[n.level], i, n.level, f, s.blocks_per_level[static_cast<size_t>(n.level)], n.stride,
          n.temporal_dilation, attn);
    }
  }
  o << "  head [shape=box, style=filled, fillcolor=\"#fcbba1\", label=\"head\\n" << s.num_classes << " classes\"];\n";
  // Ranks: stems, then each level.
  for (int level = -3; level <= 3; ++level) {
    std::vector<int> at = s.nodes_at_level(level);
    if (at.empty()) continue;
    if (level < 0) continue;
    o << "  { rank=same;";
    for (int i : at) o << " n" << i << ";";
    o << " }\n";
  }
  o << "  { rank=same;";
  for (size_t i = 0; i < s.nodes.size(); ++i)
    if (s.nodes[i].is_stem) o << " n" << i << ";";
  o << " }\n";
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    std::vector<double> w = i < weights.size() && !weights[i].empty() ? weights[i] : n.edge_weights;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (w.size() == n.inputs.size()) {
        o << fmt::format("  n{} -> n{} [penwidth={:.2f}, label=\"{:.2f}\"];\n", n.inputs[k], i, 0.3 + 4.0 * w[k], w[k]);
      } else if (n.inputs.size() == 1) {
        o << fmt::format("  n{} -> n{} [penwidth=2.0];\n", n.inputs[k], i);
      } else {
        o << fmt::format("  n{} -> n{} [style=dashed, label=\"learned\"];\n", n.inputs[k], i);
      }
    }
  }
  for (int q : s.nodes_at_level(3)) o << "  n" << q << " -> head [penwidth=2.0];\n";
  o << "}\n";
  return o.str();
}

}  // namespace asn::graph
