// Building and running a Network from a Structure (see network.h).
#include "graph/network.h"

#include <algorithm>

#include "autograd/checkpoint.h"
#include "layers/bottleneck_block.h"
#include "layers/fusion.h"
#include "layers/heads.h"
#include "layers/inverted_bottleneck.h"
#include "layers/rep_flow_layer.h"
#include "layers/stems.h"

namespace asn::graph {

using layers::AttentionMode;

std::string InputSpec::str() const { return fmt::format("{}x{}x{}", frames, height, width); }

InputSpec InputSpec::parse(const std::string& s) {
  std::vector<int64_t> v;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t x = s.find('x', pos);
    const std::string part = s.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
    try {
      size_t used = 0;
      const long long n = std::stoll(part, &used);
      if (used != part.size() || n < 1) throw std::invalid_argument(part);
      v.push_back(n);
    } catch (const std::exception&) {
      ASN_THROW(ValueError, "input size '{}': expected FRAMESxHEIGHTxWIDTH or FRAMESxSIZE with positive integers", s);
    }
    if (x == std::string::npos) break;
    pos = x + 1;
  }
  if (v.size() == 2) return InputSpec{v[0], v[1], v[1]};
  if (v.size() == 3) return InputSpec{v[0], v[1], v[2]};
  ASN_THROW(ValueError, "input size '{}': expected FRAMESxHEIGHTxWIDTH or FRAMESxSIZE", s);
}

// One node's layers: exactly one of the stems, or a fusion and a block group.
struct NodeLayers {
  std::unique_ptr<layers::RgbStem> rgb;
  std::unique_ptr<layers::FlowStem> flow;
  std::unique_ptr<layers::LiteStem> lite_stem;
  bool object = false;
  layers::Fusion fusion;
  std::unique_ptr<layers::BottleneckGroup> group;
  std::unique_ptr<layers::InvertedBottleneckGroup> lite_group;
  std::vector<int> peers;  // lower-level nodes, reference order (peer attention only)
  Shape output;            // batch 1, at the build input size
  int64_t channels = 0;
};

struct Network::Impl {
  std::vector<NodeLayers> nodes;
  std::unique_ptr<layers::RepFlowLayer> rep_flow;
  layers::AssembleNetHead head;
  layers::LiteHead lite_head;
  std::vector<int> finals;
  Shape rgb_shape, flow_shape, object_shape;
};

namespace {

AttentionMode to_mode(Attention a) {
  switch (a) {
    case Attention::None: return AttentionMode::None;
    case Attention::Self: return AttentionMode::Self;
    case Attention::Peer: return AttentionMode::Peer;
  }
  return AttentionMode::None;
}

// Lower-level nodes of a node at `level`, ordered by level bucket (-3, -2, -1, 0, ...) then list order.
std::vector<int> peers_below(const Structure& s, int level) {
  std::vector<int> out;
  for (int l = -3; l < level; ++l)
    for (int i : s.nodes_at_level(l)) out.push_back(i);
  return out;
}

}  // namespace

Network::Network(const Structure& s, const InputSpec& input) : structure_(s), input_(input), impl_(new Impl) {
  ASN_CHECK(input.frames >= 1 && input.height >= 1 && input.width >= 1, "network: invalid input size {}", input.str());
  Impl& m = *impl_;
  const bool lite = s.is_lite();
  const int64_t sf = s.resolved_stem_filters();
  m.rgb_shape = Shape{1, input.frames, input.height, input.width, 3};
  m.flow_shape = m.rgb_shape.with(4, 2);
  m.object_shape = m.rgb_shape.with(4, s.num_object_classes);

  bool any_flow = false;
  for (const Node& n : s.nodes) any_flow = any_flow || (n.is_stem && n.stem == StemType::Flow);
  if (any_flow) m.rep_flow = std::make_unique<layers::RepFlowLayer>(params_, "rep_flow", s.rep_flow_iterations,
                                                                     s.rep_flow_trainable);

  const layers::WidthRule rule = s.family == Family::AssembleNet ? layers::WidthRule::LargestChannels
                                 : (lite && !s.lite_fusion_true_channels) ? layers::WidthRule::LiteWidthQuirk
                                                                          : layers::WidthRule::LargestNonObject;
  m.nodes.resize(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    NodeLayers& L = m.nodes[i];
    const std::string name = fmt::format("node_{}", i);
    if (n.is_stem) {
      switch (n.stem) {
        case StemType::Rgb:
          if (lite) {
            L.lite_stem = std::make_unique<layers::LiteStem>(params_, name, 3, sf, n.temporal_dilation);
            L.output = L.lite_stem->output_shape(m.rgb_shape);
          } else {
            L.rgb = std::make_unique<layers::RgbStem>(params_, name, 3, sf, n.temporal_dilation);
            L.output = L.rgb->output_shape(m.rgb_shape);
          }
          break;
        case StemType::Flow:
          if (lite) {
            L.lite_stem = std::make_unique<layers::LiteStem>(params_, name, 2, sf, n.temporal_dilation);
            L.output = L.lite_stem->output_shape(m.flow_shape);
          } else {
            L.flow = std::make_unique<layers::FlowStem>(params_, name, 2, sf);
            L.output = L.flow->output_shape(m.flow_shape);
          }
          break;
        case StemType::Object:
          L.object = true;
          L.output = layers::ObjectStem().output_shape(m.object_shape);
          break;
      }
      L.channels = L.output[4];
      continue;
    }
    layers::FusionSpec fs;
    std::vector<Shape> in_shapes;
    for (int j : n.inputs) {
      const Shape& o = m.nodes[static_cast<size_t>(j)].output;
      fs.inputs.push_back({o[4], o[2], o[3]});
      in_shapes.push_back(o);
    }
    fs.fixed_weights = n.edge_weights;
    fs.width_rule = rule;
    fs.object_channels = s.num_object_classes;
    fs.attention = to_mode(s.attention);
    if (fs.attention == AttentionMode::Peer) {
      L.peers = peers_below(s, n.level);
      for (int k : L.peers) fs.peer_channels.push_back(m.nodes[static_cast<size_t>(k)].channels);
    }
    L.fusion = layers::Fusion(params_, name, fs);
    const Shape fused = L.fusion.output_shape(in_shapes);
    const int count = s.blocks_per_level[static_cast<size_t>(n.level)];
    if (lite) {
      layers::InvertedBottleneckSpec bs;
      bs.cin = fused[4];
      bs.filters = {n.lite_filters[0], n.lite_filters[1], n.lite_filters[2]};
      bs.stride = n.stride;
      bs.temporal_dilation = n.temporal_dilation;
      L.lite_group = std::make_unique<layers::InvertedBottleneckGroup>(params_, name, bs, count);
      L.output = L.lite_group->output_shape(fused);
    } else {
      layers::BottleneckSpec bs;
      bs.cin = fused[4];
      bs.filters = n.filters;
      bs.inter = s.intermediate_channels[static_cast<size_t>(n.level)];
      bs.stride = n.stride;
      bs.temporal_dilation = n.temporal_dilation;
      L.group = std::make_unique<layers::BottleneckGroup>(params_, name, bs, count);
      L.output = L.group->output_shape(fused);
    }
    L.channels = L.output[4];
  }

  m.finals = s.nodes_at_level(3);
  if (lite) {
    const int64_t c = m.nodes[static_cast<size_t>(m.finals[0])].channels;
    m.lite_head = layers::LiteHead(params_, "head", c, s.lite_head_channels[0], s.lite_head_channels[1],
                                   s.num_classes, s.max_pool_predictions, s.dropout);
  } else {
    const int64_t c = m.nodes[static_cast<size_t>(m.finals[0])].channels;
    for (int q : m.finals) {
      ASN_CHECK(m.nodes[static_cast<size_t>(q)].channels == c,
                "structure {}: level-3 nodes {} and {} have different widths ({} vs {}); the head sums them",
                s.source, m.finals[0], q, c, m.nodes[static_cast<size_t>(q)].channels);
    }
    m.head = layers::AssembleNetHead(params_, "head", c, s.num_classes, s.max_pool_predictions);
  }
}

Network::~Network() = default;

void Network::initialize(DType dtype, Device device, uint64_t seed) {
  Generator gen(seed);
  params_.finalize(dtype, device, gen);
}

int64_t Network::node_channels(int i) const {
  ASN_CHECK(i >= 0 && static_cast<size_t>(i) < impl_->nodes.size(), "network: node {} out of range", i);
  return impl_->nodes[static_cast<size_t>(i)].channels;
}

NetworkOutputs Network::forward(const NetworkInputs& in, bool training, Generator* dropout_gen) const {
  ASN_CHECK(params_.finalized(), "network: forward() before initialize()");
  const Impl& m = *impl_;
  const Structure& s = structure_;
  ASN_CHECK_SHAPE(in.rgb.defined() && in.rgb.rank() == 5 && in.rgb.shape()[4] == 3,
                  "network {}: rgb input must be (N, T, H, W, 3), got {}", s.name,
                  in.rgb.defined() ? describe(in.rgb.value()) : "nothing");
  ASN_CHECK_TYPE(in.rgb.dtype() == params_.dtype() && in.rgb.device() == params_.device(),
                 "network {}: rgb input is {} but the parameters are {} on {}", s.name, describe(in.rgb.value()),
                 dtype_name(params_.dtype()), params_.device().str());
  NetworkOutputs out;
  if (m.rep_flow) out.flow = m.rep_flow->forward(in.rgb);
  out.nodes.resize(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    const NodeLayers& L = m.nodes[i];
    ag::Variable y;
    if (n.is_stem) {
      if (L.rgb) y = L.rgb->forward(in.rgb, training);
      if (L.flow) y = L.flow->forward(out.flow, training);
      if (L.lite_stem) y = L.lite_stem->forward(n.stem == StemType::Flow ? out.flow : in.rgb, training);
      if (L.object) {
        const Shape& r = in.rgb.shape();
        ASN_CHECK_SHAPE(in.objects.defined() && in.objects.shape() == r.with(4, s.num_object_classes),
                        "network {}: object input must be (N, T, H, W, {}) matching rgb {}, got {}", s.name,
                        s.num_object_classes, r.str(), in.objects.defined() ? describe(in.objects.value()) : "nothing");
        y = layers::ObjectStem().forward(in.objects);
      }
    } else {
      std::vector<ag::Variable> xs, peers;
      for (int j : n.inputs) xs.push_back(out.nodes[static_cast<size_t>(j)]);
      for (int k : L.peers) peers.push_back(out.nodes[static_cast<size_t>(k)]);
      ag::Variable fused = L.fusion.forward(xs, peers);
      const NodeLayers* layers = &L;
      auto group = [layers, training](const std::vector<ag::Variable>& v) {
        return std::vector<ag::Variable>{layers->group ? layers->group->forward(v[0], training)
                                                       : layers->lite_group->forward(v[0], training)};
      };
      // Gradient checkpointing (autograd/checkpoint.h): keep the group's input, recompute the rest.
      y = training && ag::checkpoint_enabled() ? ag::checkpoint("block_group", group, {fused})[0] : group({fused})[0];
    }
    out.nodes[i] = y;
  }
  if (s.is_lite()) {
    out.logits = m.lite_head.forward(out.nodes[static_cast<size_t>(m.finals[0])], training, dropout_gen);
  } else {
    std::vector<ag::Variable> finals;
    for (int q : m.finals) finals.push_back(out.nodes[static_cast<size_t>(q)]);
    out.logits = m.head.forward(finals);
  }
  return out;
}

std::vector<NodeSummary> Network::summary() const {
  const Impl& m = *impl_;
  const Structure& s = structure_;
  auto count = [&](const std::string& prefix, NodeSummary& row) {
    for (const auto& e : params_.entries()) {
      if (e.name.compare(0, prefix.size(), prefix) != 0) continue;
      const bool moving = e.name.find("/moving_") != std::string::npos;
      if (e.options.trainable) {
        row.trainable_params += e.var.numel();
      } else if (!moving) {
        row.fixed_params += e.var.numel();
      }
    }
  };
  std::vector<NodeSummary> rows;
  if (m.rep_flow) {
    NodeSummary r;
    r.name = "rep_flow";
    r.kind = fmt::format("representation flow ({} iterations{})", s.rep_flow_iterations,
                         s.rep_flow_trainable ? ", trainable" : "");
    r.output = m.flow_shape;
    count("rep_flow/", r);
    rows.push_back(r);
  }
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Node& n = s.nodes[i];
    const NodeLayers& L = m.nodes[i];
    NodeSummary r;
    r.index = static_cast<int>(i);
    r.name = fmt::format("node_{}", i);
    r.inputs = n.inputs;
    r.output = L.output;
    count(r.name + "/", r);
    if (n.is_stem) {
      r.kind = n.stem == StemType::Rgb ? "rgb stem" : n.stem == StemType::Flow ? "flow stem" : "object stem";
      if (L.rgb) r.macs = L.rgb->macs(m.rgb_shape);
      if (L.flow) r.macs = L.flow->macs(m.flow_shape);
      if (L.lite_stem) r.macs = L.lite_stem->macs(n.stem == StemType::Flow ? m.flow_shape : m.rgb_shape);
    } else {
      const int blocks = s.blocks_per_level[static_cast<size_t>(n.level)];
      r.kind = s.is_lite() ? fmt::format("level {} block group ({} blocks, f=[{}, {}, {}], stride {}, dilation {})",
                                         n.level, blocks, n.lite_filters[0], n.lite_filters[1], n.lite_filters[2],
                                         n.stride, n.temporal_dilation)
                           : fmt::format("level {} block group ({} blocks, f={}, stride {}, dilation {})", n.level,
                                         blocks, n.filters, n.stride, n.temporal_dilation);
      std::vector<Shape> ins, peers;
      for (int j : n.inputs) ins.push_back(m.nodes[static_cast<size_t>(j)].output);
      for (int k : L.peers) peers.push_back(m.nodes[static_cast<size_t>(k)].output);
      const Shape fused = L.fusion.output_shape(ins);
      r.macs = L.fusion.macs(ins, peers) + (L.group ? L.group->macs(fused) : L.lite_group->macs(fused));
    }
    rows.push_back(r);
  }
  NodeSummary h;
  h.name = "head";
  h.kind = s.is_lite() ? "lite head" : (s.max_pool_predictions ? "head (temporal soft-max pooling)" : "head");
  h.output = Shape{1, s.num_classes};
  count("head/", h);
  if (s.is_lite()) {
    h.macs = m.lite_head.macs(m.nodes[static_cast<size_t>(m.finals[0])].output);
  } else {
    std::vector<Shape> f;
    for (int q : m.finals) f.push_back(m.nodes[static_cast<size_t>(q)].output);
    h.macs = m.head.macs(f);
  }
  rows.push_back(h);
  return rows;
}

int64_t Network::trainable_parameter_count() const {
  int64_t n = 0;
  for (const auto& e : params_.entries())
    if (e.options.trainable) n += e.var.numel();
  return n;
}

std::vector<double> Network::edge_weights(int i) const {
  ASN_CHECK(i >= 0 && static_cast<size_t>(i) < impl_->nodes.size(), "network: node {} out of range", i);
  if (structure_.nodes[static_cast<size_t>(i)].is_stem) return {};
  return impl_->nodes[static_cast<size_t>(i)].fusion.edge_weights();
}

}  // namespace asn::graph
