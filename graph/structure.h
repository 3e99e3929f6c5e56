// Structure: a validated AssembleNet-family model description, parsed from a JSON structure file
// (docs/structure-format.md).
//
// The node list and edge-weight list are the reference's own (assemblenet-spec §1.1), accepted
// unchanged: stems `[-1|-2|-3, d]`, blocks `[level, [inputs], filters, d, stride(, 0)]`, Lite
// filters as `[f0, f1, f2]`, edge weights post-sigmoid with `[]` meaning "learn them". Everything is
// validated before any allocation; every error names the file, the JSON path and the node index.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace asn::graph {

enum class Family { AssembleNet, AssembleNetPlus, AssembleNetPlusLite };
enum class Attention { None, Self, Peer };
enum class StemType { Rgb = -1, Flow = -2, Object = -3 };

const char* family_name(Family f);
const char* attention_name(Attention a);

struct Node {
  bool is_stem = false;
  StemType stem = StemType::Rgb;   // stems only
  int level = -1;                  // blocks: 0..3; stems: the stem type value (-1, -2, -3)
  std::vector<int> inputs;         // blocks only, in listed order
  int filters = 0;                 // AssembleNet / ++: bottleneck width f (output 4f)
  std::array<int, 3> lite_filters{};  // Lite: [f0, f1, f2] (output f2)
  int temporal_dilation = 1;
  int stride = 1;                  // spatial stride of the node's first block
  // Post-sigmoid edge weights, one per input (empty for stems and single-input nodes, and for every
  // node when the edges are learned).
  std::vector<double> edge_weights;
};

struct Structure {
  std::string name;
  std::string source;  // file name or "<json>" (used in error messages)
  Family family = Family::AssembleNet;
  std::array<int, 4> blocks_per_level{3, 4, 6, 3};
  int depth = 50;      // 0 when blocks_per_level was given directly
  int num_classes = 157;
  Attention attention = Attention::None;
  bool object_input = false;
  int num_object_classes = 151;
  int rep_flow_iterations = 40;
  bool rep_flow_trainable = false;
  bool max_pool_predictions = false;
  double dropout = 0.0;              // Lite head drop rate (Keras rate); 0 = none
  bool learn_edge_weights = false;   // the edge-weight list was []
  // Lite only: use the true max channel count as the fusion width instead of the reference's
  // W-as-channel quirk (spec §4.4). Off by default (the quirk defines the published model).
  bool lite_fusion_true_channels = false;
  // Width overrides for custom (e.g. small CPU) networks; the defaults are the reference's.
  int stem_filters = 0;  // 0: the reference rule (128 // stems for AssembleNet/++, 24 for Lite)
  std::array<int, 4> intermediate_channels{64, 128, 256, 512};  // bottleneck 3x3 width per level
  std::array<int, 2> lite_head_channels{432, 2048};             // Lite head 1x1x1 widths
  std::vector<Node> nodes;

  // The stem width actually used.
  int resolved_stem_filters() const;

  int num_stems() const;
  bool is_lite() const { return family == Family::AssembleNetPlusLite; }
  // Indices of the nodes at `level` (-3..3), in list order.
  std::vector<int> nodes_at_level(int level) const;
};

// Parses and validates; throws asn::ValueError naming `source`, the JSON path and the node.
Structure parse_structure(const nlohmann::json& j, const std::string& source = "<json>");
Structure load_structure(const std::string& path);
nlohmann::json to_json(const Structure& s);
void save_structure(const Structure& s, const std::string& path);

// The blocks per level for a depth id of the reference (26, 38, 50, 68, 77, 101).
std::array<int, 4> blocks_for_depth(int depth, const std::string& where);

}  // namespace asn::graph
