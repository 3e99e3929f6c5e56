// RawFrameDataset: videos stored as folders of decoded frames, MMAction2's RawframeDataset format
// (what `tools/data/build_rawframes.py` writes and many Kinetics / SSv2 / UCF101 copies ship as).
//
// List file, one video per line (whitespace-separated; frame folders without spaces):
//   "<frame_dir> <total_frames> <label> [<label> ...]"
//   with_offset: "<frame_dir> <offset> <total_frames> <label> ..."   (frames start at offset)
// Frame i of a video (0-based) is the image <root>/<frame_dir>/<filename_template formatted with
// offset + start_index + i>; the template uses the {fmt}/Python syntax, MMAction2's default
// "img_{:05}.jpg" with start_index 1 (img_00001.jpg is frame 0). Images are decoded with FFmpeg
// (JPEG, PNG, ...), so clips come out exactly as from a video with the same frames, through the
// same sampling, crop, flip and normalisation (clip_options.h).
//
// Errors name the list file and line (malformed lines, labels >= num_classes) or the image (a
// missing or undecodable frame, a frame whose size differs from the video's first frame). A
// too-short video follows clip.out_of_range like a video file. Object maps are not supported.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/video/video_reader.h"

namespace asn::data {

struct RawFrameOptions {
  std::string list;                              // the list file
  std::string root;                              // frame folders are relative to it
  std::string filename_template = "img_{:05}.jpg";
  int64_t start_index = 1;                       // file number of frame 0 (MMAction2: 1)
  bool with_offset = false;                      // lines carry an offset column
  bool multilabel = false;                       // several labels per line
  int num_classes = 0;                           // 0: the largest label + 1
  ClipOptions clip;
  video::VideoReaderOptions reader;
};

struct RawFrameItem {
  std::string dir;  // resolved frame folder
  int64_t offset = 0;
  int64_t total_frames = 0;
  std::vector<int> labels;
  std::string source;  // "<list file>:<line>"
};

// Parses a rawframe list (no file access). IoError "<source>:<line>: <problem>".
std::vector<RawFrameItem> parse_rawframe_list(const std::string& text, const std::string& source,
                                              bool with_offset, bool multilabel);

class RawFrameDataset : public Dataset {
 public:
  // Reads the list; checks the template, the labels and that every frame folder exists.
  explicit RawFrameDataset(RawFrameOptions options);

  int64_t size() const override { return static_cast<int64_t>(items_.size()); }
  int num_classes() const override { return num_classes_; }
  bool is_multilabel() const override { return options_.multilabel; }
  const ClipOptions& clip_options() const override { return options_.clip; }
  std::string item_name(int64_t index) const override;
  std::vector<int> item_labels(int64_t index) const override;
  Sample get(int64_t index, SampleRequest& request) const override;
  ItemInfo check(int64_t index) const override;

  // The image file of frame i (0-based) of item `index`.
  std::string frame_path(int64_t index, int64_t i) const;

 private:
  const RawFrameItem& item(int64_t index) const;
  // One frame as (1, H, W, 3) u8.
  Tensor read_frame(int64_t index, int64_t i) const;

  // The frame size of each item, learned from its first get() (0 x 0 until then), so later
  // samples decode only the frames they use.
  std::pair<int, int> cached_size(int64_t index) const;
  void cache_size(int64_t index, int height, int width) const;

  RawFrameOptions options_;
  std::vector<RawFrameItem> items_;
  int num_classes_ = 0;
  mutable std::mutex size_mutex_;
  mutable std::vector<std::pair<int, int>> sizes_;
};

}  // namespace asn::data
