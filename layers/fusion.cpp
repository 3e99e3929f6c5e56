// Fusion of a node's inputs (see fusion.h). The resize, edge weight, peer gate and same-channel sum
// of each channel group run as one ag::gated_sum (kernels/fusion/gated_sum.h); self attention,
// whose gate depends on the resized input, resizes and weights each input with a one-input
// gated_sum, attends it and sums with add_n. Both give bitwise the results of the separate ops.
#include "layers/fusion.h"

#include <cmath>

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"
#include "autograd/functions/gated_sum.h"
#include "kernels/fusion/gated_sum.h"

namespace asn::layers {

int64_t fusion_width(const std::vector<FusionInputInfo>& inputs, WidthRule rule, int64_t object_channels,
                     const std::string& where) {
  int64_t L = 0;
  for (const auto& in : inputs) {
    switch (rule) {
      case WidthRule::LargestChannels:
        L = std::max(L, in.channels);
        break;
      case WidthRule::LargestNonObject:
        if (in.channels > L && in.channels != object_channels) L = in.channels;
        break;
      case WidthRule::LiteWidthQuirk:
        if (in.channels > L && in.channels != object_channels) L = in.width;
        break;
    }
  }
  ASN_CHECK(L > 0, "{}: no input qualifies to set the fusion width (every input has the object class count {})",
            where, object_channels);
  return L;
}

Fusion::Fusion(ag::Parameters& ps, const std::string& name, const FusionSpec& spec) : name_(name), spec_(spec) {
  const size_t n = spec.inputs.size();
  ASN_CHECK(n >= 1, "fusion of {}: no inputs", name);
  // Peer vectors come first, as in the reference (their dense layers are built before the fusion).
  if (spec.attention == AttentionMode::Peer) peers_ = PeerVectors(ps, name + "/attention", spec.peer_channels);
  if (n == 1) {
    out_channels_ = spec.inputs[0].channels;
  } else {
    out_channels_ = fusion_width(spec.inputs, spec.width_rule, spec.object_channels, "fusion of " + name);
    if (spec.fixed_weights.empty()) {
      logits_ = ps.add(name + "/fusion/edge_logits", Shape{static_cast<int64_t>(n)},
                       ag::init::truncated_normal(0.0, 0.01), ag::ParamOptions{true, false});
    } else {
      ASN_CHECK(spec.fixed_weights.size() == n, "fusion of {}: {} edge weights for {} inputs", name,
                spec.fixed_weights.size(), n);
      std::vector<double> logits;
      for (double w : spec.fixed_weights) {
        ASN_CHECK(w > 0 && w < 1, "fusion of {}: edge weight {} outside (0, 1)", name, w);
        logits.push_back(-std::log(1.0 / w - 1.0));
      }
      logits_ = ps.add_buffer(name + "/fusion/edge_logits", Shape{static_cast<int64_t>(n)},
                              ag::init::from_values(logits));
    }
    for (const auto& in : spec.inputs) {
      if (std::find(group_channels_.begin(), group_channels_.end(), in.channels) == group_channels_.end())
        group_channels_.push_back(in.channels);
    }
    for (int64_t c : group_channels_) {
      if (c == out_channels_) {
        group_convs_.emplace_back();
      } else {
        group_convs_.emplace_back(ps, fmt::format("{}/fusion/project_{}", name, c),
                                  ConvSpec{c, out_channels_, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same});
      }
    }
  }
  if (spec.attention != AttentionMode::None) {
    for (size_t j = 0; j < n; ++j)
      attention_.emplace_back(ps, fmt::format("{}/attention/connection_{}", name, j), spec.attention,
                              spec.inputs[j].channels, spec.peer_channels.size(), peers_.width());
  }
}

ag::Variable Fusion::forward(const std::vector<ag::Variable>& inputs, const std::vector<ag::Variable>& peer_streams) const {
  const size_t n = spec_.inputs.size();
  ASN_CHECK(inputs.size() == n, "fusion of {}: {} inputs given, {} expected", name_, inputs.size(), n);
  for (size_t j = 0; j < n; ++j) {
    ASN_CHECK_SHAPE(inputs[j].rank() == 5 && inputs[j].shape()[4] == spec_.inputs[j].channels,
                    "fusion of {}: input {} is {}, expected {} channels", name_, j, describe(inputs[j].value()),
                    spec_.inputs[j].channels);
  }
  std::vector<ag::Variable> peer_vectors;
  if (spec_.attention == AttentionMode::Peer) peer_vectors = peers_.forward(peer_streams);
  if (n == 1) return attention_.empty() ? inputs[0] : attention_[0].forward(inputs[0], peer_vectors);

  std::vector<Shape> shapes;
  for (const auto& x : inputs) shapes.push_back(x.shape());
  const auto [Hs, Ws] = target_size(shapes);
  const ag::Variable w = ag::sigmoid(logits_);  // (n,)
  std::vector<std::vector<int64_t>> members(group_channels_.size());  // input indices per group
  for (size_t j = 0; j < n; ++j) {
    const size_t g = static_cast<size_t>(
        std::find(group_channels_.begin(), group_channels_.end(), spec_.inputs[j].channels) - group_channels_.begin());
    members[g].push_back(static_cast<int64_t>(j));
  }
  std::vector<ag::Variable> parts;
  for (size_t g = 0; g < group_channels_.size(); ++g) {
    ag::Variable t;
    if (spec_.attention == AttentionMode::Self) {
      // The self-attention gate is computed from the resized, weighted input itself, so each input
      // is resized and weighted on its own (a one-input gated_sum), attended, then summed.
      std::vector<ag::Variable> terms;
      for (int64_t j : members[g]) {
        const ag::Variable x = ag::gated_sum({inputs[static_cast<size_t>(j)]}, w, {j}, {}, Hs, Ws);
        terms.push_back(attention_[static_cast<size_t>(j)].forward(x, peer_vectors));
      }
      t = terms.size() == 1 ? terms[0] : ag::add_n(terms);
    } else {
      // No attention, or peer gates (which depend on the peers only): the whole group in one pass,
      // resize, edge weight, gate and sum fused.
      std::vector<ag::Variable> xs, gates;
      for (int64_t j : members[g]) {
        xs.push_back(inputs[static_cast<size_t>(j)]);
        if (!attention_.empty()) gates.push_back(attention_[static_cast<size_t>(j)].gate(ag::Variable(), peer_vectors));
      }
      t = ag::gated_sum(xs, w, members[g], gates, Hs, Ws);
    }
    if (group_channels_[g] != out_channels_) t = group_convs_[g].forward(t);
    parts.push_back(t);
  }
  return parts.size() == 1 ? parts[0] : ag::add_n(parts);
}

std::pair<int64_t, int64_t> Fusion::target_size(const std::vector<Shape>& inputs) const {
  int64_t Hs = inputs[0][2], Ws = inputs[0][3];
  for (const auto& s : inputs) {
    Hs = std::min(Hs, s[2]);
    Ws = std::min(Ws, s[3]);
  }
  for (size_t j = 0; j < inputs.size(); ++j) {
    const Shape& s = inputs[j];
    const kernels::GatedSumInput rz = kernels::gated_sum_resize(s[2], s[3], Hs, Ws);
    const int64_t ho = (s[2] + rz.r - 1) / rz.r, wo = (s[3] + rz.r - 1) / rz.r;
    ASN_CHECK_SHAPE(ho == Hs && wo == Ws,
                    "fusion of {}: input {} of spatial size {}x{} resized by {} gives {}x{}, not the smallest "
                    "input size {}x{} (the reference's resize rule; choose another input size)",
                    name_, j, s[2], s[3], rz.r, ho, wo, Hs, Ws);
  }
  return {Hs, Ws};
}

Shape Fusion::output_shape(const std::vector<Shape>& inputs) const {
  if (inputs.size() == 1) return inputs[0];
  const auto [Hs, Ws] = target_size(inputs);
  return Shape{inputs[0][0], inputs[0][1], Hs, Ws, out_channels_};
}

int64_t Fusion::macs(const std::vector<Shape>& inputs, const std::vector<Shape>& peer_shapes) const {
  int64_t m = 0;
  if (spec_.attention == AttentionMode::Peer) m += peers_.macs(peer_shapes);
  const Shape out = output_shape(inputs);
  for (size_t j = 0; j < attention_.size(); ++j) m += attention_[j].macs(inputs[j].with(4, spec_.inputs[j].channels));
  if (inputs.size() == 1) return m;
  for (size_t g = 0; g < group_channels_.size(); ++g)
    if (group_channels_[g] != out_channels_) m += group_convs_[g].macs(out.with(4, group_channels_[g]));
  return m;
}

std::vector<double> Fusion::edge_weights() const {
  std::vector<double> w;
  if (!logits_.defined()) return w;
  for (double a : logits_.value().to_vector<double>()) w.push_back(1.0 / (1.0 + std::exp(-a)));
  return w;
}

}  // namespace asn::layers
