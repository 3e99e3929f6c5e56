// check_dataset: validates a whole dataset up front (MMAction2's check_videos.py, built in), so a
// run does not discover a broken copy of Kinetics after an hour: every video opens and decodes its
// header, has enough frames for a clip, its object maps match, and its labels are known classes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace asn::data {

struct CheckOptions {
  int num_threads = 1;    // items checked in parallel (each opens its own reader)
  int64_t max_items = 0;  // check only the first max_items items (0: all)
};

struct ItemProblem {
  int64_t index = 0;
  std::string name;
  std::string message;
};

struct DatasetReport {
  int64_t items_checked = 0;
  int64_t ok = 0;
  std::vector<ItemProblem> problems;  // in item order
  std::vector<int64_t> class_counts;  // items per class over the good items (video-level labels)
  int64_t min_frames = 0;             // over the good items
  int64_t max_frames = 0;
  double mean_frames = 0;

  bool all_ok() const { return problems.empty(); }
  // A few lines for the console: counts, frame statistics, empty classes, the first problems.
  std::string summary(size_t max_problems = 10) const;
};

DatasetReport check_dataset(const Dataset& dataset, const CheckOptions& options = {});

}  // namespace asn::data
