// check_dataset: every item through Dataset::check() on a few threads, collected in item order.
#include "engine/data/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "engine/error.h"

namespace asn::data {

DatasetReport check_dataset(const Dataset& dataset, const CheckOptions& options) {
  ASN_CHECK(options.num_threads >= 1, "check_dataset: num_threads must be >= 1");
  const int64_t n =
      options.max_items > 0 ? std::min(options.max_items, dataset.size()) : dataset.size();
  struct Outcome {
    bool ok = false;
    ItemInfo info;
    std::vector<int> labels;
    std::string message;
  };
  std::vector<Outcome> out(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      Outcome& o = out[static_cast<size_t>(i)];
      try {
        o.info = dataset.check(i);
        o.labels = dataset.item_labels(i);
        for (int l : o.labels) {
          if (l < 0 || l >= dataset.num_classes()) {
            ASN_THROW(ValueError, "label {} is not a class in [0, {})", l, dataset.num_classes());
          }
        }
        o.ok = true;
      } catch (const std::exception& e) {
        o.message = e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < options.num_threads; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();

  DatasetReport r;
  r.items_checked = n;
  r.class_counts.assign(static_cast<size_t>(dataset.num_classes()), 0);
  double frames_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Outcome& o = out[static_cast<size_t>(i)];
    if (!o.ok) {
      r.problems.push_back(ItemProblem{i, dataset.item_name(i), o.message});
      continue;
    }
    r.min_frames = r.ok == 0 ? o.info.frames : std::min(r.min_frames, o.info.frames);
    r.max_frames = std::max(r.max_frames, o.info.frames);
    frames_sum += static_cast<double>(o.info.frames);
    ++r.ok;
    for (int l : o.labels) ++r.class_counts[static_cast<size_t>(l)];
  }
  r.mean_frames = r.ok ? frames_sum / static_cast<double>(r.ok) : 0.0;
  return r;
}

std::string DatasetReport::summary(size_t max_problems) const {
  std::string s = fmt::format("{} of {} items usable", ok, items_checked);
  if (ok > 0) {
    s += fmt::format("; frames per video: min {}, mean {:.1f}, max {}", min_frames, mean_frames,
                     max_frames);
  }
  int64_t empty = 0;
  for (int64_t c : class_counts) empty += c == 0 ? 1 : 0;
  if (empty > 0)
    s += fmt::format("; {} of {} classes have no usable item", empty, class_counts.size());
  s += "\n";
  for (size_t i = 0; i < problems.size() && i < max_problems; ++i) {
    s += fmt::format("  item {}: {}\n", problems[i].index, problems[i].message);
  }
  if (problems.size() > max_problems) {
    s += fmt::format("  ... and {} more problems\n", problems.size() - max_problems);
  }
  return s;
}

}  // namespace asn::data
