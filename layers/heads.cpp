// Heads (see heads.h).
#include "layers/heads.h"

#include "autograd/functions/dropout.h"
#include "autograd/functions/elementwise.h"
#include "autograd/functions/reduce.h"
#include "autograd/functions/temporal_softmax_pool.h"

namespace asn::layers {

AssembleNetHead::AssembleNetHead(ag::Parameters& ps, const std::string& name, int64_t channels,
                                 int64_t num_classes, bool max_pool_predictions)
    : dense_(ps, name + "/dense", channels, num_classes), max_pool_predictions_(max_pool_predictions) {}

ag::Variable AssembleNetHead::forward(const std::vector<ag::Variable>& finals) const {
  ASN_CHECK(!finals.empty(), "head: no level-3 node outputs");
  std::vector<ag::Variable> pooled;
  for (const auto& f : finals) {
    ag::Variable g = ag::mean(f, {2, 3});  // (N, T, C)
    if (!max_pool_predictions_) g = ag::mean(g, {1});  // (N, C)
    pooled.push_back(g);
  }
  ag::Variable h = pooled.size() == 1 ? pooled[0] : ag::scale(ag::add_n(pooled), 1.0 / static_cast<double>(pooled.size()));
  ag::Variable z = dense_.forward(h);
  if (max_pool_predictions_) z = ag::temporal_softmax_pool(z);  // (N, T, K) -> (N, K)
  return z;
}

int64_t AssembleNetHead::macs(const std::vector<Shape>& finals) const {
  const Shape& f = finals[0];
  return dense_.macs(max_pool_predictions_ ? Shape{f[0], f[1], f[4]} : Shape{f[0], f[4]});
}

LiteHead::LiteHead(ag::Parameters& ps, const std::string& name, int64_t channels, int64_t width0, int64_t width1,
                   int64_t num_classes, bool max_pool_predictions, double dropout_rate)
    : conv0_(ps, name + "/conv_0", {channels, width0, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same}, true),
      conv1_(ps, name + "/conv_1", {width0, width1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same}, true),
      dense_(ps, name + "/dense", width1, num_classes),
      max_pool_predictions_(max_pool_predictions),
      dropout_rate_(dropout_rate) {}

ag::Variable LiteHead::forward(const ag::Variable& final_node, bool training, Generator* gen) const {
  ag::Variable y = conv1_.forward(conv0_.forward(final_node, training), training);
  y = max_pool_predictions_ ? ag::mean(y, {2, 3}) : ag::mean(y, {1, 2, 3});
  if (dropout_rate_ > 0 && training) {
    ASN_CHECK(gen != nullptr, "Lite head: dropout in training needs a random generator");
    y = ag::dropout(y, dropout_rate_, *gen, training);
  }
  ag::Variable z = dense_.forward(y);
  if (max_pool_predictions_) z = ag::temporal_softmax_pool(z);
  return z;
}

int64_t LiteHead::macs(const Shape& f) const {
  const Shape y0 = conv0_.output_shape(f);
  const Shape y1 = conv1_.output_shape(y0);
  return conv0_.macs(f) + conv1_.macs(y0) +
         dense_.macs(max_pool_predictions_ ? Shape{f[0], f[1], y1[4]} : Shape{f[0], y1[4]});
}

}  // namespace asn::layers
