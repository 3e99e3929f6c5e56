// Datasets of frame folders (see rawframe_dataset.h).
#include "engine/data/rawframe_dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "engine/data/csv.h"
#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
#include "engine/error.h"
#include "engine/video/video_backend.h"

namespace asn::data {

namespace fs = std::filesystem;

namespace {

int64_t parse_count(const std::string& s, const std::string& where, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 0)
    ASN_THROW(IoError, "{}: {} must be a non-negative integer, got '{}'", where, what, s);
  return static_cast<int64_t>(v);
}

std::string format_frame(const std::string& tmpl, int64_t number) {
  return fmt::format(fmt::runtime(tmpl), number);
}

}  // namespace

std::vector<RawFrameItem> parse_rawframe_list(const std::string& text, const std::string& source,
                                              bool with_offset, bool multilabel) {
  std::vector<RawFrameItem> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    const std::string where = fmt::format("{}:{}", source, number);
    const size_t fixed = with_offset ? 3 : 2;  // dir, [offset,] total
    if (f.size() < fixed + 1)
      ASN_THROW(IoError, "{}: expected \"<frame_dir> {}<total_frames> <label>\", got '{}'", where,
                with_offset ? "<offset> " : "", line);
    if (!multilabel && f.size() > fixed + 1)
      ASN_THROW(IoError, "{}: {} labels on a line of a single-label list (set multilabel)", where, f.size() - fixed);
    RawFrameItem it;
    it.dir = f[0];
    it.offset = with_offset ? parse_count(f[1], where, "the offset") : 0;
    it.total_frames = parse_count(f[fixed - 1], where, "total_frames");
    if (it.total_frames == 0) ASN_THROW(IoError, "{}: total_frames is 0", where);
    for (size_t k = fixed; k < f.size(); ++k) {
      std::string l = f[k];
      // "1,5,7" is also accepted for multi-label lines.
      std::istringstream parts(l);
      for (std::string p; std::getline(parts, p, ',');) {
        if (p.empty()) continue;
        it.labels.push_back(static_cast<int>(parse_count(p, where, "a label")));
      }
    }
    if (it.labels.empty()) ASN_THROW(IoError, "{}: no label", where);
    it.source = where;
    out.push_back(std::move(it));
  }
  return out;
}

RawFrameDataset::RawFrameDataset(RawFrameOptions options) : options_(std::move(options)) {
  options_.clip.validate();
  try {
    (void)format_frame(options_.filename_template, options_.start_index);
  } catch (const fmt::format_error& e) {
    ASN_THROW(ValueError, "rawframes: filename_template '{}' is not a valid format for a frame number: {}",
              options_.filename_template, e.what());
  }
  ASN_CHECK(options_.start_index >= 0, "rawframes: start_index must be >= 0, got {}", options_.start_index);
  items_ = parse_rawframe_list(read_text_file(options_.list), options_.list, options_.with_offset,
                               options_.multilabel);
  if (items_.empty()) ASN_THROW(IoError, "{}: no videos listed", options_.list);
  int largest = 0;
  for (RawFrameItem& it : items_) {
    for (int l : it.labels) largest = std::max(largest, l);
    it.dir = options_.root.empty() || fs::path(it.dir).is_absolute() ? it.dir
                                                                     : (fs::path(options_.root) / it.dir).string();
    std::error_code ec;
    if (!fs::is_directory(it.dir, ec)) ASN_THROW(IoError, "{}: frame folder '{}' not found", it.source, it.dir);
  }
  // Without FFmpeg no frame could be decoded: say so now (as video datasets do).
  if (!video::ffmpeg_available()) {
    ASN_THROW(IoError, "{}", video::no_ffmpeg_message(
                                 "rawframes dataset", fmt::format("cannot decode the frames of '{}' and {} more videos",
                                                                  items_[0].dir, items_.size() - 1)));
  }
  num_classes_ = options_.num_classes > 0 ? options_.num_classes : largest + 1;
  sizes_.assign(items_.size(), {0, 0});
  for (const RawFrameItem& it : items_)
    for (int l : it.labels)
      ASN_CHECK(l < num_classes_, "{}: label {} is not below num_classes {}", it.source, l, num_classes_);
  ASN_CHECK(options_.clip.flip_label_map.empty() ||
                static_cast<int>(options_.clip.flip_label_map.size()) == num_classes_,
            "rawframes: flip_label_map has {} entries for {} classes", options_.clip.flip_label_map.size(),
            num_classes_);
}

const RawFrameItem& RawFrameDataset::item(int64_t index) const {
  ASN_CHECK(index >= 0 && index < size(), "rawframes: item {} out of range [0, {})", index, size());
  return items_[static_cast<size_t>(index)];
}

std::string RawFrameDataset::item_name(int64_t index) const { return item(index).dir; }

std::vector<int> RawFrameDataset::item_labels(int64_t index) const { return item(index).labels; }

std::string RawFrameDataset::frame_path(int64_t index, int64_t i) const {
  const RawFrameItem& it = item(index);
  return (fs::path(it.dir) / format_frame(options_.filename_template, options_.start_index + it.offset + i)).string();
}

Tensor RawFrameDataset::read_frame(int64_t index, int64_t i) const {
  const std::string path = frame_path(index, i);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    ASN_THROW(IoError, "{}: frame {} is missing ({} lists {} frames)", path, i, item(index).source,
              item(index).total_frames);
  video::VideoReader reader(path, options_.reader);
  return reader.read_frames({0});
}

std::pair<int, int> RawFrameDataset::cached_size(int64_t index) const {
  std::lock_guard<std::mutex> lock(size_mutex_);
  return sizes_[static_cast<size_t>(index)];
}

void RawFrameDataset::cache_size(int64_t index, int height, int width) const {
  std::lock_guard<std::mutex> lock(size_mutex_);
  sizes_[static_cast<size_t>(index)] = {height, width};
}

Sample RawFrameDataset::get(int64_t index, SampleRequest& request) const {
  const RawFrameItem& it = item(index);
  const ClipOptions& o = options_.clip;
  // The video's size (every frame must share it): frame 0's, decoded once per item.
  std::map<int64_t, Tensor> decoded;
  auto [H, W] = cached_size(index);
  if (H == 0) {
    const Tensor first = read_frame(index, 0);
    H = static_cast<int>(first.dim(1));
    W = static_cast<int>(first.dim(2));
    decoded.emplace(0, first);
    cache_size(index, H, W);
  }
  const ClipPlan plan = plan_clip(it.total_frames, H, W, o, request, it.dir);
  Tensor frames = Tensor::empty(Shape{static_cast<int64_t>(plan.frames.size()), H, W, 3}, DType::u8);
  const int64_t frame_bytes = static_cast<int64_t>(H) * W * 3;
  for (size_t t = 0; t < plan.frames.size(); ++t) {
    const int64_t f = plan.frames[t];
    auto found = decoded.find(f);
    if (found == decoded.end()) found = decoded.emplace(f, read_frame(index, f)).first;
    const Tensor& img = found->second;
    if (img.dim(1) != H || img.dim(2) != W)
      ASN_THROW(IoError, "{}: frame is {}x{} but frame 0 of the video is {}x{}", frame_path(index, f), img.dim(2),
                img.dim(1), W, H);
    std::copy_n(img.data<uint8_t>(), frame_bytes, frames.data<uint8_t>() + static_cast<int64_t>(t) * frame_bytes);
  }
  Sample s;
  s.clip = crop_resize_normalize(frames, plan.box, o.height, o.width, o.normalization);
  s.frames = plan.frames;
  s.flipped = plan.box.flip;
  auto mapped = [&](int label) {
    return s.flipped && !o.flip_label_map.empty() ? o.flip_label_map[static_cast<size_t>(label)] : label;
  };
  if (!options_.multilabel) {
    s.label = mapped(it.labels.at(0));
  } else {
    s.targets = Tensor::zeros(Shape{num_classes_}, DType::f32);
    for (int l : it.labels) s.targets.data<float>()[mapped(l)] = 1.0f;
  }
  return s;
}

ItemInfo RawFrameDataset::check(int64_t index) const {
  const RawFrameItem& it = item(index);
  const int64_t span = clip_span(options_.clip);
  if (options_.clip.out_of_range == video::OutOfRange::kError && it.total_frames < span)
    ASN_THROW(IoError, "{}: too short: {} frames, a clip of {} frames at stride {} needs {}", it.dir,
              it.total_frames, options_.clip.num_frames, options_.clip.stride, span);
  std::vector<std::string> missing;
  for (int64_t i = 0; i < it.total_frames; ++i) {
    std::error_code ec;
    if (!fs::is_regular_file(frame_path(index, i), ec)) missing.push_back(frame_path(index, i));
  }
  if (!missing.empty())
    ASN_THROW(IoError, "{}: {} of {} listed frames are missing (first: {})", it.source, missing.size(),
              it.total_frames, missing.front());
  const Tensor first = read_frame(index, 0);
  const Tensor last = read_frame(index, it.total_frames - 1);
  if (last.dim(1) != first.dim(1) || last.dim(2) != first.dim(2))
    ASN_THROW(IoError, "{}: frame is {}x{} but frame 0 of the video is {}x{}", frame_path(index, it.total_frames - 1),
              last.dim(2), last.dim(1), first.dim(2), first.dim(1));
  return ItemInfo{it.total_frames, static_cast<int>(first.dim(1)), static_cast<int>(first.dim(2))};
}

}  // namespace asn::data
