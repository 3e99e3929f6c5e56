// VideoFileDataset: a Dataset over video files, built from a list file, a Kinetics CSV or a
// Charades CSV (annotations.h), decoding clips with VideoReader and cutting them as ClipOptions
// say.
//
// Labels:
//   single         one class per video (list files, Kinetics); Sample::label
//   multi          several classes per video (multi-label list files); Sample::targets multi-hot
//   timed actions  Charades: training clips are labelled with the union of the actions whose
//                  [start, end] overlaps the time span of the sampled frames (first frame's time to
//                  the last frame's end); evaluation uses the union over the whole video
//                  (PySlowFast's convention). Sample::targets multi-hot (may be all zero).
// Videos named by the annotations are looked for when the dataset is built: a missing one is an
// error naming the annotation file and line (MissingVideos::kError) or dropped with a warning and
// listed in skipped() (kSkip: Kinetics copies always miss some videos).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/data/annotations.h"
#include "engine/data/dataset.h"
#include "engine/data/object_maps.h"
#include "engine/video/video_reader.h"

namespace asn::data {

enum class MissingVideos { kError, kSkip };

struct VideoDatasetOptions {
  std::string root;  // folder that relative video paths are resolved against (empty: as written)
  ClipOptions clip;
  MissingVideos missing_videos = MissingVideos::kError;
  ObjectMapOptions objects;          // object maps for AssembleNet++ (num_classes 0: none)
  video::VideoReaderOptions reader;  // decoder threads per reader, strictness
};

enum class LabelKind { kSingle, kMulti, kTimedActions };

struct VideoItem {
  std::string path;                  // resolved video path
  std::vector<int> labels;           // kSingle: one; kMulti: several; kTimedActions: unused
  std::vector<TimedAction> actions;  // kTimedActions
  std::string source;                // "<annotation file>:<line>"
};

class VideoFileDataset : public Dataset {
 public:
  // `class_names` may be empty. `skipped` lists entries dropped for missing videos. Validates the
  // clip options and that flip_label_map (when given) has num_classes entries. In a build without
  // FFmpeg (video_backend.h) a non-empty dataset is an IoError saying so.
  VideoFileDataset(std::vector<VideoItem> items, LabelKind kind, int num_classes,
                   std::vector<std::string> class_names, VideoDatasetOptions options,
                   std::vector<std::string> skipped = {});

  int64_t size() const override { return static_cast<int64_t>(items_.size()); }
  int num_classes() const override { return num_classes_; }
  bool is_multilabel() const override { return kind_ != LabelKind::kSingle; }
  int num_object_classes() const override { return options_.objects.num_classes; }
  const ClipOptions& clip_options() const override { return options_.clip; }
  std::string item_name(int64_t index) const override;
  std::vector<std::string> class_names() const override { return class_names_; }
  std::vector<int> item_labels(int64_t index) const override;
  Sample get(int64_t index, SampleRequest& request) const override;
  ItemInfo check(int64_t index) const override;

  LabelKind label_kind() const { return kind_; }
  const std::vector<VideoItem>& items() const { return items_; }
  // "<annotation file>:<line>: <video path>" of every entry dropped because its video is missing.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  const VideoItem& item(int64_t index) const;

  std::vector<VideoItem> items_;
  LabelKind kind_;
  int num_classes_;
  std::vector<std::string> class_names_;
  VideoDatasetOptions options_;
  std::vector<std::string> skipped_;
};

// List file ("<path> <label>" lines). num_classes 0: the largest label + 1; otherwise every label
// must be below it.
struct ListDatasetOptions {
  ListFileOptions list;
  int num_classes = 0;
};
std::shared_ptr<VideoFileDataset> load_list_dataset(const ListDatasetOptions& list,
                                                    const VideoDatasetOptions& options);

// Kinetics CSV. Classes: class_names if given, else the class-list file if given, else the sorted
// label names of this CSV (build the validation set with the training set's class_names()).
struct KineticsOptions {
  std::string csv;
  std::string class_list;                // one class per line (MMAction2 label_map_k400.txt)
  std::vector<std::string> class_names;  // takes precedence over class_list
  std::string extension = ".mp4";
  bool label_subfolders = false;  // videos in <root>/<label>/ instead of <root>/
  std::string split;              // keep only rows whose split column equals this (empty: all)
};
std::shared_ptr<VideoFileDataset> load_kinetics_dataset(const KineticsOptions& kinetics,
                                                        const VideoDatasetOptions& options);

// Charades CSV; videos are <root>/<id><extension>.
struct CharadesOptions {
  std::string csv;
  int num_classes = 157;
  std::string extension = ".mp4";
};
std::shared_ptr<VideoFileDataset> load_charades_dataset(const CharadesOptions& charades,
                                                        const VideoDatasetOptions& options);

// Something-Something V2 (annotations.h): the labels JSON and a train or validation JSON; videos
// are <root>/<id><extension> (".webm" in the official release). A horizontal flip changes the
// meaning of the "... left to right" / "... right to left" classes; unless the clip options bring
// their own flip_label_map, flip_label_pairs swaps every pair of classes whose templates differ
// only by those words (in the official labels file: 86/87, 93/94 and 166/167, the pairs MMAction2
// swaps). Turn flipping off instead with clip.flip = false (PySlowFast's SSv2 recipe).
struct Ssv2Options {
  std::string labels;       // something-something-v2-labels.json
  std::string annotations;  // something-something-v2-train.json or -validation.json
  std::string extension = ".webm";
  bool flip_label_pairs = true;
};
std::shared_ptr<VideoFileDataset> load_ssv2_dataset(const Ssv2Options& ssv2,
                                                    const VideoDatasetOptions& options);
// The flip map flip_label_pairs builds from the class names (identity where no pair exists).
std::vector<int> ssv2_flip_label_map(const std::vector<std::string>& class_names);

}  // namespace asn::data
