// Evaluation metrics (see metrics.h).
#include "engine/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace asn::metrics {

namespace {
int64_t rows_of(const std::vector<float>& scores, int64_t num_classes, const char* what) {
  ASN_CHECK(num_classes > 0 && scores.size() % static_cast<size_t>(num_classes) == 0,
            "{}: {} scores are not a multiple of {} classes", what, scores.size(), num_classes);
  return static_cast<int64_t>(scores.size()) / num_classes;
}
}  // namespace

double top_k_accuracy(const std::vector<float>& scores, int64_t K, const std::vector<int32_t>& labels, int k) {
  const int64_t n = rows_of(scores, K, "top-k accuracy");
  ASN_CHECK(static_cast<int64_t>(labels.size()) == n, "top-k accuracy: {} labels for {} samples", labels.size(), n);
  ASN_CHECK(k >= 1, "top-k accuracy: k = {} must be >= 1", k);
  if (n == 0) return 0;
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = labels[static_cast<size_t>(i)];
    ASN_CHECK(y >= 0 && y < K, "top-k accuracy: label {} of sample {} outside [0, {})", y, i, K);
    const float s = scores[static_cast<size_t>(i * K + y)];
    // Rank = number of classes scoring strictly higher, plus earlier classes scoring equal.
    int64_t better = 0;
    for (int64_t c = 0; c < K; ++c) {
      const float v = scores[static_cast<size_t>(i * K + c)];
      if (v > s || (v == s && c < y)) ++better;
    }
    if (better < k) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(n);
}

double mean_class_accuracy(const std::vector<float>& scores, int64_t K, const std::vector<int32_t>& labels) {
  const int64_t n = rows_of(scores, K, "mean class accuracy");
  ASN_CHECK(static_cast<int64_t>(labels.size()) == n, "mean class accuracy: {} labels for {} samples", labels.size(), n);
  std::vector<int64_t> seen(static_cast<size_t>(K), 0), right(static_cast<size_t>(K), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = labels[static_cast<size_t>(i)];
    ASN_CHECK(y >= 0 && y < K, "mean class accuracy: label {} of sample {} outside [0, {})", y, i, K);
    const float* row = scores.data() + i * K;
    const int64_t pred = std::max_element(row, row + K) - row;
    seen[static_cast<size_t>(y)]++;
    if (pred == y) right[static_cast<size_t>(y)]++;
  }
  double sum = 0;
  int64_t classes = 0;
  for (int64_t c = 0; c < K; ++c) {
    if (seen[static_cast<size_t>(c)] == 0) continue;
    sum += static_cast<double>(right[static_cast<size_t>(c)]) / static_cast<double>(seen[static_cast<size_t>(c)]);
    ++classes;
  }
  return classes ? sum / static_cast<double>(classes) : 0;
}

MapResult mean_average_precision(const std::vector<float>& scores, int64_t K, const std::vector<float>& targets) {
  const int64_t n = rows_of(scores, K, "mAP");
  ASN_CHECK(targets.size() == scores.size(), "mAP: {} targets for {} scores", targets.size(), scores.size());
  MapResult r;
  r.per_class.assign(static_cast<size_t>(K), NAN);
  std::vector<int64_t> order(static_cast<size_t>(n));
  double sum = 0;
  for (int64_t c = 0; c < K; ++c) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return scores[static_cast<size_t>(a * K + c)] > scores[static_cast<size_t>(b * K + c)];
    });
    int64_t tp = 0, positives = 0;
    double ap = 0;
    for (int64_t rank = 0; rank < n; ++rank) {
      if (targets[static_cast<size_t>(order[static_cast<size_t>(rank)] * K + c)] > 0.5f) {
        ++tp;
        ++positives;
        ap += static_cast<double>(tp) / static_cast<double>(rank + 1);
      }
    }
    if (positives == 0) {
      ++r.classes_skipped;
      continue;
    }
    r.per_class[static_cast<size_t>(c)] = ap / static_cast<double>(positives);
    sum += r.per_class[static_cast<size_t>(c)];
    ++r.classes_used;
  }
  r.map = r.classes_used ? sum / static_cast<double>(r.classes_used) : 0;
  return r;
}

}  // namespace asn::metrics
