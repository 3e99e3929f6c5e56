// Evaluation metrics over whole evaluation sets (scores accumulated by the trainer).
//
//   top-k accuracy          fraction of samples whose label is among the k highest scores
//   mean class accuracy     per-class recall averaged over the classes that occur
//   mAP (Charades)          per class: sort samples by score (descending, ties by sample order); AP =
//                           mean over the positives of the precision at their rank; classes without
//                           positives are skipped and counted; mAP = mean over the remaining classes
//                           (the Charades devkit's definition).
#pragma once

#include <cstdint>
#include <vector>

namespace asn::metrics {

// scores: (num_samples, num_classes) row-major; labels: class index per sample.
double top_k_accuracy(const std::vector<float>& scores, int64_t num_classes, const std::vector<int32_t>& labels, int k);
double mean_class_accuracy(const std::vector<float>& scores, int64_t num_classes, const std::vector<int32_t>& labels);

struct MapResult {
  double map = 0;               // mean AP over classes with at least one positive
  int64_t classes_used = 0;
  int64_t classes_skipped = 0;  // no positive sample
  std::vector<double> per_class;  // AP per class (NaN when skipped)
};
// targets: (num_samples, num_classes) multi-hot (> 0.5 counts as positive).
MapResult mean_average_precision(const std::vector<float>& scores, int64_t num_classes, const std::vector<float>& targets);

}  // namespace asn::metrics
