// VideoFileDataset: decode, sample, augment, label; and the list/Kinetics/Charades factories.
#include "engine/data/video_dataset.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "engine/data/csv.h"
#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/video/video_backend.h"

namespace asn::data {

namespace fs = std::filesystem;

VideoFileDataset::VideoFileDataset(std::vector<VideoItem> items, LabelKind kind, int num_classes,
                                   std::vector<std::string> class_names,
                                   VideoDatasetOptions options, std::vector<std::string> skipped)
    : items_(std::move(items)),
      kind_(kind),
      num_classes_(num_classes),
      class_names_(std::move(class_names)),
      options_(std::move(options)),
      skipped_(std::move(skipped)) {
  // Without FFmpeg every item would fail to load; say why now instead of after the loader's
  // failure-rate guard gives up.
  if (!video::ffmpeg_available() && !items_.empty()) {
    std::string task = fmt::format("cannot decode '{}'", items_[0].path);
    if (items_.size() > 1) task += fmt::format(" and {} more videos", items_.size() - 1);
    ASN_THROW(IoError, "{}", video::no_ffmpeg_message("video dataset", task));
  }
  options_.clip.validate();
  ASN_CHECK(num_classes_ >= 1, "video dataset: num_classes must be >= 1, got {}", num_classes_);
  ASN_CHECK(options_.clip.flip_label_map.empty() ||
                static_cast<int>(options_.clip.flip_label_map.size()) == num_classes_,
            "video dataset: flip_label_map has {} entries for {} classes",
            options_.clip.flip_label_map.size(), num_classes_);
  ASN_CHECK(options_.objects.num_classes >= 0 && options_.objects.num_classes <= 256,
            "video dataset: object num_classes must be in [0, 256], got {}",
            options_.objects.num_classes);
}

const VideoItem& VideoFileDataset::item(int64_t index) const {
  ASN_CHECK(index >= 0 && index < size(), "video dataset: index {} out of range [0, {})", index,
            size());
  return items_[static_cast<size_t>(index)];
}

std::string VideoFileDataset::item_name(int64_t index) const { return item(index).path; }

std::vector<int> VideoFileDataset::item_labels(int64_t index) const {
  const VideoItem& it = item(index);
  if (kind_ != LabelKind::kTimedActions) return it.labels;
  std::set<int> s;
  for (const TimedAction& a : it.actions) s.insert(a.label);
  return {s.begin(), s.end()};
}

Sample VideoFileDataset::get(int64_t index, SampleRequest& request) const {
  const VideoItem& it = item(index);
  const ClipOptions& o = options_.clip;
  video::VideoReader reader(it.path, options_.reader);
  const video::VideoInfo& info = reader.info();
  const ClipPlan plan = plan_clip(info.num_frames, info.height, info.width, o, request, it.path);
  const Tensor frames = reader.read_frames(plan.frames);

  Sample s;
  s.clip = crop_resize_normalize(frames, plan.box, o.height, o.width, o.normalization);
  s.frames = plan.frames;
  s.flipped = plan.box.flip;
  auto mapped = [&](int label) {
    return s.flipped && !o.flip_label_map.empty() ? o.flip_label_map[static_cast<size_t>(label)]
                                                  : label;
  };
  if (kind_ == LabelKind::kSingle) {
    s.label = mapped(it.labels.at(0));
  } else {
    s.targets = Tensor::zeros(Shape{num_classes_}, DType::f32);
    float* t = s.targets.data<float>();
    if (kind_ == LabelKind::kMulti) {
      for (int l : it.labels) t[mapped(l)] = 1.0f;
    } else {
      // Charades: actions overlapping the sampled frames (training) or the whole video (eval).
      const auto [lo, hi] = std::minmax_element(plan.frames.begin(), plan.frames.end());
      const double t0 = reader.frame_time(*lo);
      const double t1 = reader.frame_time(*hi) + (info.fps > 0 ? 1.0 / info.fps : 0.0);
      for (const TimedAction& a : it.actions) {
        if (request.mode == Mode::kEval || (a.start_s <= t1 && a.end_s >= t0)) {
          t[mapped(a.label)] = 1.0f;
        }
      }
    }
  }
  if (options_.objects.num_classes > 0) {
    const std::string path = object_map_path(it.path, options_.root, options_.objects);
    const Tensor maps = load_object_maps(path, options_.objects.num_classes);
    const std::vector<int64_t> mf = object_map_frames(plan.frames, info.num_frames, maps.dim(0));
    s.objects = object_maps_one_hot(maps, mf, info.height, info.width, plan.box, o.height, o.width,
                                    options_.objects.num_classes, path);
  }
  return s;
}

ItemInfo VideoFileDataset::check(int64_t index) const {
  const VideoItem& it = item(index);
  video::VideoReader reader(it.path, options_.reader);
  const video::VideoInfo& info = reader.info();
  const int64_t span = clip_span(options_.clip);
  if (options_.clip.out_of_range == video::OutOfRange::kError && info.num_frames < span) {
    ASN_THROW(IoError, "{}: too short: {} frames, a clip of {} frames at stride {} needs {}",
              it.path, info.num_frames, options_.clip.num_frames, options_.clip.stride, span);
  }
  if (options_.objects.num_classes > 0) {
    load_object_maps(object_map_path(it.path, options_.root, options_.objects),
                     options_.objects.num_classes);
  }
  return ItemInfo{info.num_frames, info.height, info.width};
}

namespace {

std::string resolve(const std::string& root, const std::string& path) {
  if (root.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(root) / path).string();
}

// Keeps the item when its video exists; otherwise throws or records it, as the options say.
bool keep_if_present(const VideoItem& item, const VideoDatasetOptions& options,
                     std::vector<std::string>* skipped) {
  std::error_code ec;
  if (fs::is_regular_file(item.path, ec)) return true;
  if (options.missing_videos == MissingVideos::kError) {
    ASN_THROW(IoError, "{}: video '{}' not found (set missing_videos to skip to drop such entries)",
              item.source, item.path);
  }
  skipped->push_back(item.source + ": " + item.path);
  return false;
}

void warn_skipped(const std::string& annotations, const std::vector<std::string>& skipped,
                  size_t kept) {
  if (skipped.empty()) return;
  ASN_LOG_WARN("{}: {} of {} videos are missing and were skipped (first: {})", annotations,
               skipped.size(), skipped.size() + kept, skipped.front());
}

}  // namespace

std::shared_ptr<VideoFileDataset> load_list_dataset(const ListDatasetOptions& list,
                                                    const VideoDatasetOptions& options) {
  const std::string& src = list.list.path;
  const std::vector<ListEntry> entries = parse_list_file(read_text_file(src), src, list.list);
  if (entries.empty()) ASN_THROW(IoError, "{}: the list file has no entries", src);
  int max_label = 0;
  for (const ListEntry& e : entries) {
    for (int l : e.labels) {
      if (list.num_classes > 0 && l >= list.num_classes) {
        ASN_THROW(IoError, "{}:{}: unknown label {} (num_classes is {})", src, e.line, l,
                  list.num_classes);
      }
      max_label = std::max(max_label, l);
    }
  }
  std::vector<VideoItem> items;
  std::vector<std::string> skipped;
  for (const ListEntry& e : entries) {
    VideoItem it{resolve(options.root, e.path), e.labels, {}, src + ":" + std::to_string(e.line)};
    if (keep_if_present(it, options, &skipped)) items.push_back(std::move(it));
  }
  warn_skipped(src, skipped, items.size());
  if (items.empty()) ASN_THROW(IoError, "{}: none of the listed videos exists", src);
  const int num_classes = list.num_classes > 0 ? list.num_classes : max_label + 1;
  return std::make_shared<VideoFileDataset>(
      std::move(items), list.list.multilabel ? LabelKind::kMulti : LabelKind::kSingle, num_classes,
      std::vector<std::string>{}, options, std::move(skipped));
}

std::shared_ptr<VideoFileDataset> load_kinetics_dataset(const KineticsOptions& k,
                                                        const VideoDatasetOptions& options) {
  const std::vector<KineticsRow> rows = parse_kinetics_csv(read_text_file(k.csv), k.csv);
  std::vector<std::string> names = k.class_names;
  std::string names_source = "the given class names";
  if (names.empty() && !k.class_list.empty()) {
    names = read_class_list(k.class_list);
    names_source = k.class_list;
  }
  if (names.empty()) {
    std::set<std::string> s;
    for (const KineticsRow& r : rows)
      if (k.split.empty() || r.split == k.split) s.insert(r.label);
    names.assign(s.begin(), s.end());
    names_source = "the labels of " + k.csv;
  }
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int>(i);
  std::vector<VideoItem> items;
  std::vector<std::string> skipped;
  for (const KineticsRow& r : rows) {
    if (!k.split.empty() && r.split != k.split) continue;
    const std::string where = k.csv + ":" + std::to_string(r.line);
    auto it = index.find(r.label);
    if (it == index.end()) {
      ASN_THROW(IoError, "{}: unknown label '{}' (not in {})", where, r.label, names_source);
    }
    std::string rel = kinetics_file_name(r.youtube_id, r.time_start, r.time_end, k.extension);
    if (k.label_subfolders) rel = (fs::path(r.label) / rel).string();
    VideoItem item{resolve(options.root, rel), {it->second}, {}, where};
    if (keep_if_present(item, options, &skipped)) items.push_back(std::move(item));
  }
  warn_skipped(k.csv, skipped, items.size());
  if (items.empty()) ASN_THROW(IoError, "{}: no usable rows (split filter '{}')", k.csv, k.split);
  const int num_classes = static_cast<int>(names.size());
  return std::make_shared<VideoFileDataset>(std::move(items), LabelKind::kSingle, num_classes,
                                            std::move(names), options, std::move(skipped));
}

std::shared_ptr<VideoFileDataset> load_charades_dataset(const CharadesOptions& c,
                                                        const VideoDatasetOptions& options) {
  ASN_CHECK(c.num_classes >= 1, "charades: num_classes must be >= 1, got {}", c.num_classes);
  const std::vector<CharadesRow> rows =
      parse_charades_csv(read_text_file(c.csv), c.csv, c.num_classes);
  std::vector<VideoItem> items;
  std::vector<std::string> skipped;
  for (const CharadesRow& r : rows) {
    VideoItem item{resolve(options.root, r.id + c.extension),
                   {},
                   r.actions,
                   c.csv + ":" + std::to_string(r.line)};
    if (keep_if_present(item, options, &skipped)) items.push_back(std::move(item));
  }
  warn_skipped(c.csv, skipped, items.size());
  if (items.empty()) ASN_THROW(IoError, "{}: none of the videos exists", c.csv);
  return std::make_shared<VideoFileDataset>(std::move(items), LabelKind::kTimedActions,
                                            c.num_classes, std::vector<std::string>{}, options,
                                            std::move(skipped));
}

std::vector<int> ssv2_flip_label_map(const std::vector<std::string>& names) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int>(i);
  std::vector<int> map(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    map[i] = static_cast<int>(i);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"left to right", "right to left"},
                                   std::pair<std::string, std::string>{"right to left", "left to right"}}) {
      const size_t at = names[i].find(from);
      if (at == std::string::npos) continue;
      std::string other = names[i];
      other.replace(at, from.size(), to);
      auto it = index.find(other);
      if (it != index.end()) map[i] = it->second;
    }
  }
  return map;
}

std::shared_ptr<VideoFileDataset> load_ssv2_dataset(const Ssv2Options& o, const VideoDatasetOptions& options) {
  const Ssv2Labels labels = parse_ssv2_labels(read_text_file(o.labels), o.labels);
  const std::vector<Ssv2Entry> entries = parse_ssv2_annotations(read_text_file(o.annotations), o.annotations, labels);
  std::vector<VideoItem> items;
  std::vector<std::string> skipped;
  for (const Ssv2Entry& e : entries) {
    VideoItem item{resolve(options.root, e.id + o.extension), {e.label}, {},
                   fmt::format("{}: entry {}", o.annotations, e.index)};
    if (keep_if_present(item, options, &skipped)) items.push_back(std::move(item));
  }
  warn_skipped(o.annotations, skipped, items.size());
  if (items.empty()) ASN_THROW(IoError, "{}: no usable entries", o.annotations);
  VideoDatasetOptions opts = options;
  if (o.flip_label_pairs && opts.clip.flip_label_map.empty()) opts.clip.flip_label_map = ssv2_flip_label_map(labels.class_names);
  const int num_classes = static_cast<int>(labels.class_names.size());
  return std::make_shared<VideoFileDataset>(std::move(items), LabelKind::kSingle, num_classes,
                                            labels.class_names, opts, std::move(skipped));
}

}  // namespace asn::data
