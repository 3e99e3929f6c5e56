// Peer / self attention (see attention.h).
#include "layers/attention.h"

#include <algorithm>

#include "autograd/functions/activations.h"
#include "autograd/functions/concat_slice.h"
#include "autograd/functions/elementwise.h"
#include "autograd/functions/reduce.h"

namespace asn::layers {

PeerVectors::PeerVectors(ag::Parameters& ps, const std::string& name, const std::vector<int64_t>& peer_channels) {
  ASN_CHECK(!peer_channels.empty(), "peer attention '{}': no lower-level nodes to attend to", name);
  width_ = *std::max_element(peer_channels.begin(), peer_channels.end());
  for (size_t k = 0; k < peer_channels.size(); ++k)
    dense_.emplace_back(ps, fmt::format("{}/peer_{}", name, k), peer_channels[k], width_);
}

std::vector<ag::Variable> PeerVectors::forward(const std::vector<ag::Variable>& peer_streams) const {
  ASN_CHECK(peer_streams.size() == dense_.size(), "peer attention: {} peer streams for {} peers",
            peer_streams.size(), dense_.size());
  std::vector<ag::Variable> out;
  for (size_t k = 0; k < dense_.size(); ++k)
    out.push_back(dense_[k].forward(ag::mean(peer_streams[k], {2, 3})));  // (N, T, C_k) -> (N, T, Lp)
  return out;
}

int64_t PeerVectors::macs(const std::vector<Shape>& peer_shapes) const {
  int64_t m = 0;
  for (size_t k = 0; k < dense_.size(); ++k)
    m += dense_[k].macs(Shape{peer_shapes[k][0], peer_shapes[k][1], peer_shapes[k][4]});
  return m;
}

ConnectionAttention::ConnectionAttention(ag::Parameters& ps, const std::string& name, AttentionMode mode,
                                         int64_t channels, size_t num_peers, int64_t peer_width)
    : mode_(mode) {
  if (mode == AttentionMode::Peer) {
    peer_logits_ = ps.add(name + "/peer_logits", Shape{static_cast<int64_t>(num_peers)},
                          ag::init::truncated_normal(0.0, 0.01), ag::ParamOptions{true, false});
    dense_ = Dense(ps, name + "/dense", peer_width, channels);
  } else if (mode == AttentionMode::Self) {
    dense_ = Dense(ps, name + "/dense", channels, channels);
  }
}

ag::Variable ConnectionAttention::forward(const ag::Variable& x, const std::vector<ag::Variable>& peers) const {
  if (mode_ == AttentionMode::None) return x;
  const Shape& s = x.shape();
  return ag::mul(x, ag::reshape(gate(x, peers), Shape{s[0], s[1], 1, 1, s[4]}));
}

ag::Variable ConnectionAttention::gate(const ag::Variable& x, const std::vector<ag::Variable>& peers) const {
  ASN_CHECK(mode_ != AttentionMode::None, "attention: gate() of a connection without attention");
  ag::Variable a;
  if (mode_ == AttentionMode::Peer) {
    ag::Variable mix = ag::softmax(peer_logits_);  // (num_peers,)
    std::vector<ag::Variable> terms;
    for (size_t k = 0; k < peers.size(); ++k)
      terms.push_back(ag::scale_by(peers[k], ag::slice(mix, 0, static_cast<int64_t>(k), 1)));
    a = ag::add_n(terms);  // (N, T, Lp)
  } else {
    a = ag::mean(x, {2, 3});  // (N, T, C)
  }
  return ag::sigmoid(dense_.forward(a));  // (N, T, C)
}

int64_t ConnectionAttention::macs(const Shape& x) const {
  if (mode_ == AttentionMode::None) return 0;
  return dense_.macs(Shape{x[0], x[1], dense_.cin()});
}

}  // namespace asn::layers
