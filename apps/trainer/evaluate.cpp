// Evaluation (see evaluate.h).
#include "apps/trainer/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "autograd/tape.h"
#include "engine/metrics/metrics.h"

namespace asn::train {

nlohmann::json EvalResult::to_json() const {
  nlohmann::json j{{"items", items}, {"views", views}, {"seconds", seconds}};
  if (multilabel) {
    j["map"] = map;
    j["map_classes_used"] = map_classes_used;
    j["map_classes_skipped"] = map_classes_skipped;
  } else {
    j["top1"] = top1;
    j["top5"] = top5;
    j["mean_class_accuracy"] = mean_class_accuracy;
  }
  return j;
}

std::string EvalResult::str() const {
  if (multilabel)
    return fmt::format("mAP {:.2f}% over {} classes ({} without positives skipped), {} items x {} views", 100 * map,
                       map_classes_used, map_classes_skipped, items, items ? views / items : 0);
  return fmt::format("top-1 {:.2f}%, top-5 {:.2f}%, mean class accuracy {:.2f}%, {} items x {} views", 100 * top1,
                     100 * top5, 100 * mean_class_accuracy, items, items ? views / items : 0);
}

EvalResult evaluate(const graph::Network& net, data::DataLoader& loader, Device device, const std::string& aggregate) {
  ASN_CHECK(aggregate == "mean" || aggregate == "max", "evaluation: aggregate must be mean or max, got '{}'", aggregate);
  ASN_CHECK(loader.options().mode == data::Mode::kEval, "evaluation needs an evaluation loader");
  const auto t0 = std::chrono::steady_clock::now();
  const data::Dataset& ds = loader.dataset();
  const int64_t K = ds.num_classes();
  const bool multi = ds.is_multilabel();
  ag::NoGradGuard no_grad;
  // Per item: summed (or max) probabilities, number of views, label(s).
  struct Acc {
    std::vector<double> p;
    int views = 0;
    int label = -1;
    std::vector<float> targets;
  };
  std::map<int64_t, Acc> acc;
  loader.start_epoch(0);
  data::Batch batch;
  EvalResult r;
  r.multilabel = multi;
  while (loader.next(batch)) {
    graph::NetworkInputs in;
    in.rgb = ag::Variable(batch.clips.to(device));
    if (batch.objects.defined()) in.objects = ag::Variable(batch.objects.to(device));
    const std::vector<float> logits = net.forward(in, /*training=*/false).logits.value().to_vector<float>();
    const int64_t n = static_cast<int64_t>(batch.indices.size());
    std::vector<float> labels_f;
    std::vector<int32_t> labels_i;
    if (multi) {
      labels_f = batch.labels.to_vector<float>();
    } else {
      labels_i = batch.labels.to_vector<int32_t>();
    }
    for (int64_t i = 0; i < n; ++i) {
      Acc& a = acc[batch.indices[static_cast<size_t>(i)]];
      if (a.p.empty()) a.p.assign(static_cast<size_t>(K), aggregate == "max" ? -INFINITY : 0.0);
      std::vector<double> prob(static_cast<size_t>(K));
      const float* z = logits.data() + i * K;
      if (multi) {
        for (int64_t k = 0; k < K; ++k) prob[static_cast<size_t>(k)] = 1.0 / (1.0 + std::exp(-static_cast<double>(z[k])));
        a.targets.assign(labels_f.begin() + i * K, labels_f.begin() + (i + 1) * K);
      } else {
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < K; ++k) m = std::max(m, static_cast<double>(z[k]));
        for (int64_t k = 0; k < K; ++k) s += prob[static_cast<size_t>(k)] = std::exp(static_cast<double>(z[k]) - m);
        for (double& v : prob) v /= s;
        a.label = labels_i[static_cast<size_t>(i)];
      }
      for (int64_t k = 0; k < K; ++k) {
        double& dst = a.p[static_cast<size_t>(k)];
        dst = aggregate == "max" ? std::max(dst, prob[static_cast<size_t>(k)]) : dst + prob[static_cast<size_t>(k)];
      }
      a.views++;
      r.views++;
    }
  }
  std::vector<float> scores;
  std::vector<int32_t> labels;
  std::vector<float> targets;
  for (auto& [index, a] : acc) {
    for (double v : a.p) scores.push_back(static_cast<float>(aggregate == "max" ? v : v / a.views));
    r.item_indices.push_back(index);
    if (multi) {
      targets.insert(targets.end(), a.targets.begin(), a.targets.end());
    } else {
      labels.push_back(a.label);
    }
  }
  r.items = static_cast<int64_t>(acc.size());
  if (r.items > 0) {
    if (multi) {
      metrics::MapResult m = metrics::mean_average_precision(scores, K, targets);
      r.map = m.map;
      r.map_classes_used = m.classes_used;
      r.map_classes_skipped = m.classes_skipped;
    } else {
      r.top1 = metrics::top_k_accuracy(scores, K, labels, 1);
      r.top5 = metrics::top_k_accuracy(scores, K, labels, static_cast<int>(std::min<int64_t>(5, K)));
      r.mean_class_accuracy = metrics::mean_class_accuracy(scores, K, labels);
    }
  }
  r.probabilities = std::move(scores);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace asn::train
