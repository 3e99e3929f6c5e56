// Classification heads (assemblenet-spec §6, §4.3). Both return logits (N, K).
//
// AssembleNetHead: every level-3 node q: g_q = mean over (H, W) per frame (N, T, C), then mean over
//   T (N, C) unless max_pool_predictions; h = sum_q g_q / #q; z = Dense(h -> K). With
//   max_pool_predictions the per-frame logits (N, T, K) are combined by temporal soft-max pooling
//   (weights softmax over T of z / sqrt(T), per class).
// LiteHead (first level-3 node only): conv 1x1x1 -> 432 -> BN ReLU -> conv 1x1x1 -> 2048 -> BN ReLU
//   -> mean over (T, H, W) (or (H, W) with max_pool_predictions) -> dropout (rate) -> Dense -> K.
#pragma once

#include <string>
#include <vector>

#include "engine/rng.h"
#include "layers/conv_bn.h"
#include "layers/dense.h"

namespace asn::layers {

class AssembleNetHead {
 public:
  AssembleNetHead() = default;
  AssembleNetHead(ag::Parameters& ps, const std::string& name, int64_t channels, int64_t num_classes,
                  bool max_pool_predictions);
  ag::Variable forward(const std::vector<ag::Variable>& finals) const;
  int64_t macs(const std::vector<Shape>& finals) const;

 private:
  Dense dense_;
  bool max_pool_predictions_ = false;
};

class LiteHead {
 public:
  LiteHead() = default;
  LiteHead(ag::Parameters& ps, const std::string& name, int64_t channels, int64_t width0, int64_t width1,
           int64_t num_classes, bool max_pool_predictions, double dropout_rate);
  ag::Variable forward(const ag::Variable& final_node, bool training, Generator* dropout_gen) const;
  int64_t macs(const Shape& final_node) const;

 private:
  ConvBn conv0_, conv1_;
  Dense dense_;
  bool max_pool_predictions_ = false;
  double dropout_rate_ = 0;
};

}  // namespace asn::layers
