// Structure file parsing, validation and writing (see structure.h and docs/structure-format.md).
#include "graph/structure.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/error.h"

namespace asn::graph {

using nlohmann::json;

const char* family_name(Family f) {
  switch (f) {
    case Family::AssembleNet: return "assemblenet";
    case Family::AssembleNetPlus: return "assemblenet_plus";
    case Family::AssembleNetPlusLite: return "assemblenet_plus_lite";
  }
  return "?";
}

const char* attention_name(Attention a) {
  switch (a) {
    case Attention::None: return "none";
    case Attention::Self: return "self";
    case Attention::Peer: return "peer";
  }
  return "?";
}

int Structure::resolved_stem_filters() const {
  if (stem_filters > 0) return stem_filters;
  return is_lite() ? 24 : 128 / std::max(1, num_stems());
}

int Structure::num_stems() const {
  int n = 0;
  for (const Node& nd : nodes) n += nd.is_stem ? 1 : 0;
  return n;
}

std::vector<int> Structure::nodes_at_level(int level) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].level == level) out.push_back(static_cast<int>(i));
  return out;
}

std::array<int, 4> blocks_for_depth(int depth, const std::string& where) {
  switch (depth) {
    case 26: return {2, 2, 2, 2};
    case 38: return {2, 4, 4, 2};
    case 50: return {3, 4, 6, 3};
    case 68: return {3, 4, 12, 3};
    case 77: return {3, 4, 15, 3};
    case 101: return {3, 4, 23, 3};
  }
  ASN_THROW(ValueError, "{}: depth {} is not one of 26, 38, 50, 68, 77, 101", where, depth);
}

namespace {

// Carries the file name for messages: "<file>: <path>: <message>".
struct Ctx {
  std::string source;
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw ValueError(fmt::format("structure {}: {}: {}", source, path.empty() ? "(top level)" : path, msg));
  }
};

std::string type_of(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

int get_int(const Ctx& c, const json& v, const std::string& path) {
  if (!v.is_number_integer()) c.fail(path, fmt::format("expected an integer, got {} ({})", type_of(v), v.dump()));
  const int64_t x = v.get<int64_t>();
  if (x < -(int64_t{1} << 30) || x > (int64_t{1} << 30)) c.fail(path, fmt::format("integer {} out of range", x));
  return static_cast<int>(x);
}

double get_number(const Ctx& c, const json& v, const std::string& path) {
  if (!v.is_number()) c.fail(path, fmt::format("expected a number, got {} ({})", type_of(v), v.dump()));
  return v.get<double>();
}

bool get_bool(const Ctx& c, const json& v, const std::string& path) {
  if (!v.is_boolean()) c.fail(path, fmt::format("expected true or false, got {} ({})", type_of(v), v.dump()));
  return v.get<bool>();
}

std::string get_string(const Ctx& c, const json& v, const std::string& path) {
  if (!v.is_string()) c.fail(path, fmt::format("expected a string, got {} ({})", type_of(v), v.dump()));
  return v.get<std::string>();
}

const json& get_array(const Ctx& c, const json& v, const std::string& path) {
  if (!v.is_array()) c.fail(path, fmt::format("expected an array, got {} ({})", type_of(v), v.dump()));
  return v;
}

void check_keys(const Ctx& c, const json& obj, const std::string& path, const std::set<std::string>& allowed) {
  if (!obj.is_object()) c.fail(path, fmt::format("expected an object, got {}", type_of(obj)));
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      c.fail(path, fmt::format("unknown key '{}' (allowed: {})", it.key(), list));
    }
  }
}

std::string idx(const std::string& base, size_t i) { return fmt::format("{}[{}]", base, i); }

Node parse_node(const Ctx& c, const json& v, size_t i, size_t count, Family fam) {
  const std::string path = idx("nodes", i);
  get_array(c, v, path);
  if (v.empty()) c.fail(path, fmt::format("node {}: empty node", i));
  Node n;
  const int head = get_int(c, v[0], idx(path, 0));
  if (head < 0) {
    // Stem: [type, temporal_dilation]
    if (v.size() != 2)
      c.fail(path, fmt::format("node {}: a stem is [type, temporal_dilation] (2 elements), got {}", i, v.size()));
    if (head != -1 && head != -2 && head != -3)
      c.fail(idx(path, 0), fmt::format("node {}: unknown stem type {} (expected -1 RGB, -2 flow, -3 object)", i, head));
    n.is_stem = true;
    n.stem = static_cast<StemType>(head);
    n.level = head;
    n.temporal_dilation = get_int(c, v[1], idx(path, 1));
    if (n.temporal_dilation < 1)
      c.fail(idx(path, 1), fmt::format("node {}: temporal dilation {} must be >= 1", i, n.temporal_dilation));
    if (fam == Family::AssembleNetPlusLite && n.stem == StemType::Object)
      c.fail(idx(path, 0), fmt::format("node {}: object stems are not supported by assemblenet_plus_lite", i));
    return n;
  }
  // Block: [level, [inputs], filters, temporal_dilation, stride(, 0)]
  if (v.size() != 5 && v.size() != 6)
    c.fail(path, fmt::format("node {}: a block is [level, [inputs], filters, temporal_dilation, stride, 0] "
                             "(5 or 6 elements), got {}", i, v.size()));
  n.level = head;
  if (n.level > 3) c.fail(idx(path, 0), fmt::format("node {}: level {} is outside 0-3", i, n.level));
  const json& ins = get_array(c, v[1], idx(path, 1));
  if (ins.empty()) c.fail(idx(path, 1), fmt::format("node {}: a block needs at least one input", i));
  std::set<int> seen;
  for (size_t k = 0; k < ins.size(); ++k) {
    const std::string ip = idx(idx(path, 1), k);
    const int in = get_int(c, ins[k], ip);
    if (in < 0) c.fail(ip, fmt::format("node {}: input index {} is negative", i, in));
    if (static_cast<size_t>(in) >= count)
      c.fail(ip, fmt::format("node {}: input index {} is out of range (the structure has {} nodes)", i, in, count));
    if (static_cast<size_t>(in) >= i)
      c.fail(ip, fmt::format("node {}: input index {} is not smaller than the node's own index {} "
                             "(nodes are built in list order)", i, in, i));
    if (!seen.insert(in).second) c.fail(ip, fmt::format("node {}: input {} is listed twice", i, in));
    n.inputs.push_back(in);
  }
  const std::string fp = idx(path, 2);
  if (fam == Family::AssembleNetPlusLite) {
    if (!v[2].is_array() || v[2].size() != 3)
      c.fail(fp, fmt::format("node {}: assemblenet_plus_lite blocks take filters as a triple [f0, f1, f2], got {}",
                             i, v[2].dump()));
    for (size_t k = 0; k < 3; ++k) {
      n.lite_filters[k] = get_int(c, v[2][k], idx(fp, k));
      if (n.lite_filters[k] <= 0)
        c.fail(idx(fp, k), fmt::format("node {}: filters must be positive, got {}", i, n.lite_filters[k]));
    }
  } else {
    if (v[2].is_array())
      c.fail(fp, fmt::format("node {}: filter triples {} are only valid for assemblenet_plus_lite; {} takes one integer",
                             i, v[2].dump(), family_name(fam)));
    n.filters = get_int(c, v[2], fp);
    if (n.filters <= 0) c.fail(fp, fmt::format("node {}: filters must be positive, got {}", i, n.filters));
  }
  n.temporal_dilation = get_int(c, v[3], idx(path, 3));
  if (n.temporal_dilation < 1)
    c.fail(idx(path, 3), fmt::format("node {}: temporal dilation {} must be >= 1", i, n.temporal_dilation));
  n.stride = get_int(c, v[4], idx(path, 4));
  if (n.stride != 1 && n.stride != 2)
    c.fail(idx(path, 4), fmt::format("node {}: spatial stride {} must be 1 or 2", i, n.stride));
  if (v.size() == 6) get_int(c, v[5], idx(path, 5));  // the reference's unused trailing 0
  return n;
}

}  // namespace

Structure parse_structure(const json& j, const std::string& source) {
  Ctx c{source};
  check_keys(c, j, "", {"name", "family", "depth", "blocks_per_level", "num_classes", "attention",
                        "object_input", "rep_flow", "max_pool_predictions", "dropout", "nodes",
                        "edge_weights", "lite_fusion_true_channels", "comment", "stem_filters",
                        "intermediate_channels", "lite_head_channels"});
  Structure s;
  s.source = source;
  if (j.contains("name")) s.name = get_string(c, j["name"], "name");
  if (!j.contains("family")) c.fail("family", "missing (assemblenet, assemblenet_plus or assemblenet_plus_lite)");
  const std::string fam = get_string(c, j["family"], "family");
  if (fam == "assemblenet") {
    s.family = Family::AssembleNet;
  } else if (fam == "assemblenet_plus") {
    s.family = Family::AssembleNetPlus;
  } else if (fam == "assemblenet_plus_lite") {
    s.family = Family::AssembleNetPlusLite;
  } else {
    c.fail("family", fmt::format("unknown family '{}' (assemblenet, assemblenet_plus, assemblenet_plus_lite)", fam));
  }
  s.rep_flow_iterations = s.is_lite() ? 20 : 40;
  if (s.is_lite()) s.blocks_per_level = {3, 5, 11, 7};

  if (j.contains("depth") && j.contains("blocks_per_level"))
    c.fail("depth", "give either depth or blocks_per_level, not both");
  if (j.contains("depth")) {
    if (s.is_lite()) c.fail("depth", "assemblenet_plus_lite takes blocks_per_level, not depth");
    s.depth = get_int(c, j["depth"], "depth");
    s.blocks_per_level = blocks_for_depth(s.depth, fmt::format("structure {}: depth", source));
  } else if (j.contains("blocks_per_level")) {
    const json& b = get_array(c, j["blocks_per_level"], "blocks_per_level");
    if (b.size() != 4) c.fail("blocks_per_level", fmt::format("expected 4 values (levels 0-3), got {}", b.size()));
    for (size_t k = 0; k < 4; ++k) {
      s.blocks_per_level[k] = get_int(c, b[k], idx("blocks_per_level", k));
      if (s.blocks_per_level[k] < 1)
        c.fail(idx("blocks_per_level", k), fmt::format("blocks per level must be >= 1, got {}", s.blocks_per_level[k]));
    }
    s.depth = 0;
  }
  if (j.contains("num_classes")) {
    s.num_classes = get_int(c, j["num_classes"], "num_classes");
    if (s.num_classes < 1) c.fail("num_classes", fmt::format("must be >= 1, got {}", s.num_classes));
  }
  if (j.contains("attention")) {
    const std::string a = get_string(c, j["attention"], "attention");
    if (a == "none") {
      s.attention = Attention::None;
    } else if (a == "self") {
      s.attention = Attention::Self;
    } else if (a == "peer") {
      s.attention = Attention::Peer;
    } else {
      c.fail("attention", fmt::format("unknown attention mode '{}' (none, self, peer)", a));
    }
    if (s.attention != Attention::None && s.family == Family::AssembleNet)
      c.fail("attention", "attention needs family assemblenet_plus or assemblenet_plus_lite");
  }
  if (j.contains("object_input")) {
    const json& o = j["object_input"];
    check_keys(c, o, "object_input", {"enabled", "num_classes"});
    if (o.contains("enabled")) s.object_input = get_bool(c, o["enabled"], "object_input.enabled");
    if (o.contains("num_classes")) {
      s.num_object_classes = get_int(c, o["num_classes"], "object_input.num_classes");
      if (s.num_object_classes < 1)
        c.fail("object_input.num_classes", fmt::format("must be >= 1, got {}", s.num_object_classes));
    }
    if (s.object_input && s.family != Family::AssembleNetPlus)
      c.fail("object_input.enabled", "object input needs family assemblenet_plus");
  }
  if (j.contains("rep_flow")) {
    const json& r = j["rep_flow"];
    check_keys(c, r, "rep_flow", {"iterations", "trainable"});
    if (r.contains("iterations")) {
      s.rep_flow_iterations = get_int(c, r["iterations"], "rep_flow.iterations");
      if (s.rep_flow_iterations < 1)
        c.fail("rep_flow.iterations", fmt::format("must be >= 1, got {}", s.rep_flow_iterations));
    }
    if (r.contains("trainable")) s.rep_flow_trainable = get_bool(c, r["trainable"], "rep_flow.trainable");
  }
  if (j.contains("max_pool_predictions"))
    s.max_pool_predictions = get_bool(c, j["max_pool_predictions"], "max_pool_predictions");
  if (j.contains("dropout")) {
    s.dropout = get_number(c, j["dropout"], "dropout");
    if (!(s.dropout >= 0 && s.dropout < 1)) c.fail("dropout", fmt::format("must be in [0, 1), got {}", s.dropout));
  }
  if (j.contains("lite_fusion_true_channels")) {
    s.lite_fusion_true_channels = get_bool(c, j["lite_fusion_true_channels"], "lite_fusion_true_channels");
    if (s.lite_fusion_true_channels && !s.is_lite())
      c.fail("lite_fusion_true_channels", "only meaningful for assemblenet_plus_lite");
  }

  if (j.contains("stem_filters")) {
    s.stem_filters = get_int(c, j["stem_filters"], "stem_filters");
    if (s.stem_filters < 1) c.fail("stem_filters", fmt::format("must be >= 1, got {}", s.stem_filters));
  }
  auto int_list = [&](const char* key, auto& out) {
    if (!j.contains(key)) return;
    const json& a = get_array(c, j[key], key);
    if (a.size() != out.size()) c.fail(key, fmt::format("expected {} values, got {}", out.size(), a.size()));
    for (size_t k = 0; k < out.size(); ++k) {
      out[k] = get_int(c, a[k], idx(key, k));
      if (out[k] < 1) c.fail(idx(key, k), fmt::format("must be >= 1, got {}", out[k]));
    }
  };
  int_list("intermediate_channels", s.intermediate_channels);
  int_list("lite_head_channels", s.lite_head_channels);
  if (j.contains("lite_head_channels") && !s.is_lite())
    c.fail("lite_head_channels", "only meaningful for assemblenet_plus_lite");

  if (!j.contains("nodes")) c.fail("nodes", "missing node list");
  const json& nodes = get_array(c, j["nodes"], "nodes");
  if (nodes.empty()) c.fail("nodes", "the node list is empty");
  for (size_t i = 0; i < nodes.size(); ++i) s.nodes.push_back(parse_node(c, nodes[i], i, nodes.size(), s.family));

  // Semantic rules over the whole graph.
  bool has_level3 = false, has_object_stem = false;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    has_level3 = has_level3 || n.level == 3;
    if (n.is_stem && n.stem == StemType::Object) {
      has_object_stem = true;
      if (!s.object_input)
        c.fail(idx(idx("nodes", i), 0), fmt::format("node {}: object stem (-3) but object_input is not enabled", i));
    }
  }
  if (!has_level3) c.fail("nodes", "no level-3 node: the head needs at least one");
  if (s.object_input && !has_object_stem) c.fail("object_input.enabled", "object input enabled but no object stem (-3)");
  if (s.num_stems() == 0) c.fail("nodes", "no stem node");

  if (!j.contains("edge_weights")) c.fail("edge_weights", "missing (use [] to learn the connection weights)");
  const json& ew = get_array(c, j["edge_weights"], "edge_weights");
  if (ew.empty()) {
    s.learn_edge_weights = true;
  } else {
    if (ew.size() != s.nodes.size())
      c.fail("edge_weights", fmt::format("has {} entries for {} nodes (one per node, [] for stems and "
                                         "single-input nodes)", ew.size(), s.nodes.size()));
    for (size_t i = 0; i < ew.size(); ++i) {
      const std::string p = idx("edge_weights", i);
      const json& e = get_array(c, ew[i], p);
      Node& n = s.nodes[i];
      const size_t want = n.is_stem || n.inputs.size() == 1 ? 0 : n.inputs.size();
      if (e.empty()) {
        if (want != 0)
          c.fail(p, fmt::format("node {}: {} inputs but no edge weights (expected [[w_1, ..., w_{}]])", i, want, want));
        continue;
      }
      if (want == 0)
        c.fail(p, fmt::format("node {}: has {} input(s) and takes no edge weights, got {}", i, n.inputs.size(), e.dump()));
      if (e.size() != 1 || !e[0].is_array())
        c.fail(p, fmt::format("node {}: expected [[w_1, ..., w_{}]] (a list holding one list), got {}", i, want, e.dump()));
      const json& w = e[0];
      if (w.size() != want)
        c.fail(p, fmt::format("node {}: {} edge weights for {} inputs", i, w.size(), want));
      for (size_t k = 0; k < w.size(); ++k) {
        const double x = get_number(c, w[k], idx(idx(p, 0), k));
        if (!(x > 0 && x < 1))
          c.fail(idx(idx(p, 0), k), fmt::format("node {}: edge weight {} is outside (0, 1) (weights are post-sigmoid)", i, x));
        n.edge_weights.push_back(x);
      }
    }
  }
  return s;
}

Structure load_structure(const std::string& path) {
  std::ifstream f(path);
  if (!f) ASN_THROW(IoError, "cannot open structure file '{}'", path);
  std::stringstream ss;
  ss << f.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    ASN_THROW(ValueError, "structure {}: not valid JSON: {}", path, e.what());
  }
  return parse_structure(j, path);
}

json to_json(const Structure& s) {
  json j;
  if (!s.name.empty()) j["name"] = s.name;
  j["family"] = family_name(s.family);
  if (s.depth > 0) {
    j["depth"] = s.depth;
  } else {
    j["blocks_per_level"] = s.blocks_per_level;
  }
  j["num_classes"] = s.num_classes;
  j["attention"] = attention_name(s.attention);
  j["object_input"] = {{"enabled", s.object_input}, {"num_classes", s.num_object_classes}};
  j["rep_flow"] = {{"iterations", s.rep_flow_iterations}, {"trainable", s.rep_flow_trainable}};
  j["max_pool_predictions"] = s.max_pool_predictions;
  j["dropout"] = s.dropout;
  if (s.is_lite()) j["lite_fusion_true_channels"] = s.lite_fusion_true_channels;
  if (s.stem_filters > 0) j["stem_filters"] = s.stem_filters;
  if (s.intermediate_channels != std::array<int, 4>{64, 128, 256, 512})
    j["intermediate_channels"] = s.intermediate_channels;
  if (s.is_lite() && s.lite_head_channels != std::array<int, 2>{432, 2048})
    j["lite_head_channels"] = s.lite_head_channels;
  json nodes = json::array(), weights = json::array();
  for (const Node& n : s.nodes) {
    if (n.is_stem) {
      nodes.push_back({static_cast<int>(n.stem), n.temporal_dilation});
    } else {
      json filt = s.is_lite() ? json(n.lite_filters) : json(n.filters);
      nodes.push_back({n.level, n.inputs, filt, n.temporal_dilation, n.stride, 0});
    }
    weights.push_back(n.edge_weights.empty() ? json::array() : json::array({n.edge_weights}));
  }
  j["nodes"] = nodes;
  j["edge_weights"] = s.learn_edge_weights ? json::array() : weights;
  return j;
}

void save_structure(const Structure& s, const std::string& path) {
  std::ofstream f(path);
  if (!f) ASN_THROW(IoError, "cannot write structure file '{}'", path);
  // Nodes one per line keeps the files readable and diffable.
  json j = to_json(s);
  f << "{\n";
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!first) f << ",\n";
    first = false;
    f << "  " << json(it.key()).dump() << ": ";
    if ((it.key() == "nodes" || it.key() == "edge_weights") && !it.value().empty()) {
      f << "[\n";
      for (size_t i = 0; i < it.value().size(); ++i)
        f << "    " << it.value()[i].dump() << (i + 1 < it.value().size() ? ",\n" : "\n");
      f << "  ]";
    } else {
      f << it.value().dump();
    }
  }
  f << "\n}\n";
  if (!f) ASN_THROW(IoError, "failed writing structure file '{}'", path);
}

}  // namespace asn::graph
