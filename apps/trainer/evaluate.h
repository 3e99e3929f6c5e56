// Evaluation of a network on a dataset: every view of every item through the network in eval mode
// (BN moving statistics, no dropout), class probabilities (softmax, or sigmoid for multi-label
// data) aggregated over an item's views (mean or max), then the metrics:
//   single-label: top-1, top-5, mean class accuracy (and the loss of the aggregated probabilities)
//   multi-label:  mAP as Charades defines it (classes without positives skipped and counted)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/data/loader.h"
#include "graph/network.h"

namespace asn::train {

struct EvalResult {
  int64_t items = 0;
  int64_t views = 0;
  bool multilabel = false;
  double top1 = 0, top5 = 0, mean_class_accuracy = 0;
  double map = 0;
  int64_t map_classes_used = 0, map_classes_skipped = 0;
  double seconds = 0;
  // Aggregated probabilities (items x classes, in item order) and labels, for predict and tests.
  std::vector<float> probabilities;
  std::vector<int64_t> item_indices;

  // The headline metric: top-1 (single-label) or mAP (multi-label).
  double primary() const { return multilabel ? map : top1; }
  nlohmann::json to_json() const;
  std::string str() const;
};

// `loader` must be an evaluation loader (Mode::kEval) over the dataset; `aggregate` is "mean" or "max".
EvalResult evaluate(const graph::Network& net, data::DataLoader& loader, Device device, const std::string& aggregate);

}  // namespace asn::train
