// Data configuration from JSON (the training config's "data" and "loader" objects), strict: an
// unknown key or a wrong type is a ValueError naming the key path ("data.clip: unknown key
// 'num_frame'"). docs/data.md lists every key with its default.
//
//   {"type": "synthetic", "synthetic": {"num_classes": 4}, "clip": {"num_frames": 8}}
//   {"type": "list", "root": "videos", "train": "train.txt", "val": "val.txt", "num_classes": 400}
//   {"type": "kinetics", "root": "k400", "train": "train.csv", "val": "validate.csv",
//    "class_list": "label_map_k400.txt", "missing_videos": "skip",
//    "clip": {"num_frames": 32, "stride": 2, "height": 224, "width": 224,
//             "eval_short_side": 256, "normalization": "kinetics"}}
//   {"type": "charades", "root": "Charades_v1_480", "train": "Charades_v1_train.csv",
//    "val": "Charades_v1_test.csv", "objects": {"num_classes": 151}}
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/data/clip_options.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"

namespace asn::data {

// ClipOptions from a "clip" object; omitted keys keep the values of `defaults`.
ClipOptions clip_options_from_json(const nlohmann::json& j, const ClipOptions& defaults,
                                   const std::string& context = "data.clip");
// Every key of the options (for logs and checkpoints: the preprocessing is part of a model).
nlohmann::json clip_options_to_json(const ClipOptions& o);

struct DatasetPair {
  std::shared_ptr<Dataset> train;
  std::shared_ptr<Dataset> val;  // null when the config has no validation set
};
// Builds the training and validation datasets of a "data" object. For Kinetics the validation
// set uses the training set's classes unless a class list is given.
DatasetPair make_datasets(const nlohmann::json& data, const std::string& context = "data");

// LoaderOptions from a "loader" object (batch_size, num_workers, prefetch_batches, shuffle,
// drop_last, seed, max_failure_rate, min_attempts, max_substitutes); mode and shards are the
// caller's.
LoaderOptions loader_options_from_json(const nlohmann::json& j,
                                       const std::string& context = "loader");

}  // namespace asn::data
