// Dataset: the interface every data source implements (video files through a list, Kinetics or
// Charades annotations, and the built-in synthetic videos).
//
// get() is const and thread-safe: the loader calls it from several worker threads at once, and
// each call opens what it needs (a VideoReader per call). Problems with an item's files are
// IoErrors whose message names the file; the loader skips such items (see loader.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/clip_options.h"
#include "engine/data/sample.h"

namespace asn::data {

// What check() learned about an item.
struct ItemInfo {
  int64_t frames = 0;  // frames in the video
  int height = 0;      // frame size
  int width = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual int num_classes() const = 0;
  virtual bool is_multilabel() const = 0;
  // Classes of the object maps (0: the dataset has no object maps).
  virtual int num_object_classes() const { return 0; }
  virtual const ClipOptions& clip_options() const = 0;
  // A short name for messages: the video path, or "synthetic/train/17".
  virtual std::string item_name(int64_t index) const = 0;
  // Class names when known (Kinetics), else empty.
  virtual std::vector<std::string> class_names() const { return {}; }
  // The item's labels (video level), for class counts.
  virtual std::vector<int> item_labels(int64_t index) const = 0;

  // The sample of item `index` (0 <= index < size()). Thread-safe.
  virtual Sample get(int64_t index, SampleRequest& request) const = 0;
  // Validates the item without building a sample (its files open, the video has enough frames
  // for a clip, object maps match); throws IoError naming the file otherwise. Thread-safe.
  virtual ItemInfo check(int64_t index) const = 0;
};

}  // namespace asn::data
