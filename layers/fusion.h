// Fusion: how a block node combines its inputs (assemblenet-spec §2, §3.3, §4.4).
//
//   one input:  x (attended when attention is on); no weight, no conv
//   n inputs:   Hs, Ws = the smallest input size; w = sigmoid(edge logits)
//               x_j <- max-pool (r x r, stride r, SAME) with r = (H_j + 1) // Hs when x_j is larger
//               x_j <- w_j * x_j  (then attended when attention is on)
//               inputs with the same channel count C are summed; each sum whose C differs from the
//               fusion width L goes through one 1x1 conv (no bias) C -> L; the group results are summed.
//               (Per channel group, resize + weight + peer gate + sum is one fused ag::gated_sum.)
//
// The fusion width L (`WidthRule`): AssembleNet takes the largest C; AssembleNet++ skips inputs
// whose C equals the object class count; Lite reproduces the reference's quirk of taking the WIDTH
// of an input as the channel target (`L = W_j` whenever C_j > L), unless the corrected rule is asked
// for. Because of that quirk, Lite's parameters depend on the input resolution the model is built for.
//
// Edge logits: fixed weights w become the non-trainable logit log(w / (1 - w)) (a buffer
// `<name>/edge_logits`); learned ones are trainable, initialised from a truncated normal (std 0.01).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers/attention.h"
#include "layers/conv.h"

namespace asn::layers {

enum class WidthRule { LargestChannels, LargestNonObject, LiteWidthQuirk };

struct FusionInputInfo {
  int64_t channels = 0;
  int64_t height = 0;  // at the resolution the model is built for
  int64_t width = 0;
};

struct FusionSpec {
  std::vector<FusionInputInfo> inputs;  // in the node's listed order
  std::vector<double> fixed_weights;    // post-sigmoid; empty: learned (when > 1 input)
  WidthRule width_rule = WidthRule::LargestChannels;
  int64_t object_channels = 151;        // excluded by LargestNonObject / LiteWidthQuirk
  AttentionMode attention = AttentionMode::None;
  std::vector<int64_t> peer_channels;   // for peer attention: channels of every lower-level node
};

class Fusion {
 public:
  Fusion() = default;
  // `name` is the node prefix ("node_7"): parameters `<name>/fusion/...`, `<name>/attention/...`.
  Fusion(ag::Parameters& ps, const std::string& name, const FusionSpec& spec);

  // inputs[j] (N, T, H_j, W_j, C_j) -> (N, T, Hs, Ws, L); peer_streams: the outputs of the lower-level
  // nodes (only read with peer attention).
  ag::Variable forward(const std::vector<ag::Variable>& inputs, const std::vector<ag::Variable>& peer_streams) const;
  Shape output_shape(const std::vector<Shape>& inputs) const;
  int64_t macs(const std::vector<Shape>& inputs, const std::vector<Shape>& peer_shapes) const;
  int64_t out_channels() const { return out_channels_; }
  bool uses_peers() const { return spec_.attention == AttentionMode::Peer; }
  // The sigmoid of the edge logits (empty for single-input nodes).
  std::vector<double> edge_weights() const;
  const ag::Variable& edge_logits() const { return logits_; }

 private:
  // The common spatial size (Hs, Ws) = the smallest input size, after checking that the reference's
  // resize of every input gives exactly it; throws ShapeError naming the node and the input.
  std::pair<int64_t, int64_t> target_size(const std::vector<Shape>& inputs) const;
  std::string name_;
  FusionSpec spec_;
  int64_t out_channels_ = 0;
  ag::Variable logits_;
  std::vector<int64_t> group_channels_;  // first-appearance order
  std::vector<Conv> group_convs_;        // one per group (unused when C == L)
  PeerVectors peers_;
  std::vector<ConnectionAttention> attention_;
};

// The fusion width L for inputs and a rule; throws when no input qualifies.
int64_t fusion_width(const std::vector<FusionInputInfo>& inputs, WidthRule rule, int64_t object_channels,
                     const std::string& where);

}  // namespace asn::layers
