// Peer and self attention of AssembleNet++ (assemblenet-spec §3.1-3.2).
//
// PeerVectors (one per target node): for every node k of a lower level ("peers", in the order
// objects, flow stems, RGB stems, level 0, ...), g_k = mean over (H, W) of stream k, per frame
// (N, T, C_k), and P_k = Dense_k(g_k) -> (N, T, Lp) with Lp the largest peer channel count.
//
// ConnectionAttention (one per incoming connection of the target node):
//   peer: a = sum_k softmax(beta)_k P_k  (beta trainable, init truncated normal std 0.01)
//   self: a = mean over (H, W) of x      (N, T, C_x)
//   gate = sigmoid(Dense(a -> C_x));  out = x * gate broadcast over (H, W)
#pragma once

#include <string>
#include <vector>

#include "layers/dense.h"

namespace asn::layers {

enum class AttentionMode { None, Self, Peer };

class PeerVectors {
 public:
  PeerVectors() = default;
  // Parameters `<name>/peer_<k>/kernel|bias`, k indexing `peer_channels`.
  PeerVectors(ag::Parameters& ps, const std::string& name, const std::vector<int64_t>& peer_channels);
  // peer_streams[k] (N, T, H_k, W_k, C_k) -> P_k (N, T, Lp).
  std::vector<ag::Variable> forward(const std::vector<ag::Variable>& peer_streams) const;
  int64_t width() const { return width_; }
  size_t count() const { return dense_.size(); }
  int64_t macs(const std::vector<Shape>& peer_shapes) const;

 private:
  int64_t width_ = 0;
  std::vector<Dense> dense_;
};

class ConnectionAttention {
 public:
  ConnectionAttention() = default;
  // peer mode: `<name>/peer_logits` (num_peers,) and `<name>/dense/...` (Lp -> channels);
  // self mode: `<name>/dense/...` (channels -> channels).
  ConnectionAttention(ag::Parameters& ps, const std::string& name, AttentionMode mode, int64_t channels,
                      size_t num_peers, int64_t peer_width);
  // x (N, T, H, W, C) -> same shape, scaled per frame and channel: x * gate.
  ag::Variable forward(const ag::Variable& x, const std::vector<ag::Variable>& peer_vectors) const;
  // The gate (N, T, C) alone, for fused ops that apply it themselves (ag::gated_sum). x is read in
  // self mode only (peer gates depend on the peers alone; x may be undefined there).
  ag::Variable gate(const ag::Variable& x, const std::vector<ag::Variable>& peer_vectors) const;
  int64_t macs(const Shape& x) const;

 private:
  AttentionMode mode_ = AttentionMode::None;
  ag::Variable peer_logits_;
  Dense dense_;
};

}  // namespace asn::layers
