// Drawing a structure as a Graphviz DOT graph: stems and levels as ranks (top to bottom), one box
// per node with its width and block count, edges labelled with their weight and drawn with a line
// width proportional to it, attention noted on the block nodes, the head at the bottom.
#pragma once

#include <string>
#include <vector>

#include "graph/structure.h"

namespace asn::graph {

// weights[i]: the post-sigmoid weights of node i's inputs (e.g. learned ones from a trained model);
// when empty, the structure's own fixed weights are used and learned edges are drawn dashed.
std::string structure_to_dot(const Structure& s, const std::vector<std::vector<double>>& weights = {});

}  // namespace asn::graph
