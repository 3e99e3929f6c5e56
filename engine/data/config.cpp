// Strict JSON reading of the data and loader configuration.
#include "engine/data/config.h"

#include <set>
#include <vector>

#include "engine/data/rawframe_dataset.h"
#include "engine/data/synthetic.h"
#include "engine/data/video_dataset.h"
#include "engine/error.h"

namespace asn::data {

namespace {

using nlohmann::json;

// Reads keys of one JSON object, checking types; unknown keys are errors.
class Fields {
 public:
  Fields(const json& j, std::string context, std::vector<std::string> allowed)
      : j_(j), context_(std::move(context)) {
    ASN_CHECK(j_.is_object(), "{}: must be a JSON object, got {}", context_, j_.dump());
    for (const auto& item : j_.items()) {
      bool ok = false;
      for (const std::string& a : allowed) ok = ok || a == item.key();
      if (!ok) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        ASN_THROW(ValueError, "{}: unknown key '{}' (allowed: {})", context_, item.key(), list);
      }
    }
  }
  bool has(const char* k) const { return j_.contains(k); }
  const json& get(const char* k) const { return j_.at(k); }
  const std::string& context() const { return context_; }

  int integer(const char* k, int fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(
        v.is_number_integer() && v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX,
        "{}: key '{}' must be an integer, got {}", context_, k, v.dump());
    return v.get<int>();
  }
  int64_t integer64(const char* k, int64_t fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_number_integer(), "{}: key '{}' must be an integer, got {}", context_, k,
              v.dump());
    return v.get<int64_t>();
  }
  double number(const char* k, double fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_number(), "{}: key '{}' must be a number, got {}", context_, k, v.dump());
    return v.get<double>();
  }
  bool boolean(const char* k, bool fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_boolean(), "{}: key '{}' must be true or false, got {}", context_, k, v.dump());
    return v.get<bool>();
  }
  std::string string(const char* k, const std::string& fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_string(), "{}: key '{}' must be a string, got {}", context_, k, v.dump());
    return v.get<std::string>();
  }
  std::string required_string(const char* k) const {
    ASN_CHECK(has(k), "{}: missing required key '{}'", context_, k);
    return string(k, "");
  }
  // [lo, hi] pair of numbers.
  void range(const char* k, double* lo, double* hi) const {
    if (!has(k)) return;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number(),
              "{}: key '{}' must be [min, max], got {}", context_, k, v.dump());
    *lo = v[0].get<double>();
    *hi = v[1].get<double>();
  }
  std::vector<int> int_list(const char* k, std::vector<int> fallback) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    ASN_CHECK(v.is_array(), "{}: key '{}' must be an array of integers, got {}", context_, k,
              v.dump());
    std::vector<int> out;
    for (const json& e : v) {
      ASN_CHECK(e.is_number_integer(), "{}: key '{}' must be an array of integers, got {}",
                context_, k, v.dump());
      out.push_back(e.get<int>());
    }
    return out;
  }

 private:
  const json& j_;
  std::string context_;
};

const json kEmpty = json::object();

SyntheticOptions synthetic_from_json(const json& j, const std::string& context) {
  const Fields f(j, context,
                 {"num_classes", "num_train", "num_val", "video_frames", "height", "width",
                  "slow_speed", "fast_speed", "noise", "texture", "objects", "seed"});
  SyntheticOptions o;
  o.num_classes = f.integer("num_classes", o.num_classes);
  o.num_train = f.integer64("num_train", o.num_train);
  o.num_val = f.integer64("num_val", o.num_val);
  o.video_frames = f.integer("video_frames", o.video_frames);
  o.height = f.integer("height", o.height);
  o.width = f.integer("width", o.width);
  o.slow_speed = f.number("slow_speed", o.slow_speed);
  o.fast_speed = f.number("fast_speed", o.fast_speed);
  o.noise = f.number("noise", o.noise);
  o.texture = f.number("texture", o.texture);
  o.objects = f.boolean("objects", o.objects);
  o.seed = static_cast<uint64_t>(f.integer64("seed", 0));
  o.validate();
  return o;
}

}  // namespace

ClipOptions clip_options_from_json(const json& j, const ClipOptions& defaults,
                                   const std::string& context) {
  const Fields f(j, context,
                 {"num_frames", "stride", "out_of_range", "height", "width", "random_crop", "area",
                  "aspect", "flip", "flip_prob", "flip_label_map", "eval_short_side", "num_clips",
                  "num_crops", "normalization"});
  ClipOptions o = defaults;
  o.num_frames = f.integer("num_frames", o.num_frames);
  o.stride = f.integer("stride", o.stride);
  if (f.has("out_of_range"))
    o.out_of_range = video::out_of_range_from_name(f.string("out_of_range", ""));
  o.height = f.integer("height", o.height);
  o.width = f.integer("width", o.width);
  o.random_crop = f.boolean("random_crop", o.random_crop);
  f.range("area", &o.area_min, &o.area_max);
  f.range("aspect", &o.aspect_min, &o.aspect_max);
  o.flip = f.boolean("flip", o.flip);
  o.flip_prob = f.number("flip_prob", o.flip_prob);
  o.flip_label_map = f.int_list("flip_label_map", o.flip_label_map);
  o.eval_short_side = f.integer("eval_short_side", o.eval_short_side);
  o.num_clips = f.integer("num_clips", o.num_clips);
  o.num_crops = f.integer("num_crops", o.num_crops);
  if (f.has("normalization"))
    o.normalization = normalization_from_name(f.string("normalization", ""));
  try {
    o.validate();
  } catch (const ValueError& e) {
    ASN_THROW(ValueError, "{}: {}", context, e.what());
  }
  return o;
}

json clip_options_to_json(const ClipOptions& o) {
  return json{{"num_frames", o.num_frames},
              {"stride", o.stride},
              {"out_of_range", video::out_of_range_name(o.out_of_range)},
              {"height", o.height},
              {"width", o.width},
              {"random_crop", o.random_crop},
              {"area", {o.area_min, o.area_max}},
              {"aspect", {o.aspect_min, o.aspect_max}},
              {"flip", o.flip},
              {"flip_prob", o.flip_prob},
              {"flip_label_map", o.flip_label_map},
              {"eval_short_side", o.eval_short_side},
              {"num_clips", o.num_clips},
              {"num_crops", o.num_crops},
              {"normalization", normalization_name(o.normalization)}};
}

DatasetPair make_datasets(const json& data, const std::string& context) {
  ASN_CHECK(data.is_object() && data.contains("type"),
            "{}: needs a \"type\" (synthetic, list, "
            "kinetics, charades, ssv2, rawframes), got {}",
            context, data.dump());
  ASN_CHECK(data.at("type").is_string(), "{}: key 'type' must be a string", context);
  const std::string type = data.at("type").get<std::string>();
  const json& clip_json = data.contains("clip") ? data.at("clip") : kEmpty;
  DatasetPair out;
  if (type == "synthetic") {
    const Fields f(data, context, {"type", "synthetic", "clip"});
    const SyntheticOptions so = synthetic_from_json(
        f.has("synthetic") ? f.get("synthetic") : kEmpty, context + ".synthetic");
    const ClipOptions clip = clip_options_from_json(
        clip_json, SyntheticVideoDataset::default_clip_options(so), context + ".clip");
    out.train = std::make_shared<SyntheticVideoDataset>(so, Split::kTrain, clip);
    out.val = std::make_shared<SyntheticVideoDataset>(so, Split::kVal, clip);
    return out;
  }
  std::vector<std::string> keys = {
      "type",           "clip",    "root",           "train",          "val",
      "missing_videos", "objects", "decode_threads", "strict_decoding"};
  if (type == "list") {
    keys.insert(keys.end(), {"separator", "multilabel", "num_classes"});
  } else if (type == "kinetics") {
    keys.insert(keys.end(),
                {"class_list", "extension", "label_subfolders", "train_split", "val_split"});
  } else if (type == "charades") {
    keys.insert(keys.end(), {"num_classes", "extension"});
  } else if (type == "ssv2") {
    keys.insert(keys.end(), {"labels", "extension", "flip_label_pairs"});
  } else if (type == "rawframes") {
    keys = {"type", "clip", "root", "train", "val", "decode_threads", "strict_decoding", "filename_template",
            "start_index", "with_offset", "multilabel", "num_classes"};
  } else {
    ASN_THROW(ValueError, "{}: unknown type '{}' (synthetic, list, kinetics, charades, ssv2, rawframes)",
              context, type);
  }
  if (type == "rawframes") {
    const Fields f(data, context, keys);
    RawFrameOptions ro;
    ro.root = f.string("root", "");
    ro.clip = clip_options_from_json(clip_json, ClipOptions{}, context + ".clip");
    ro.reader.threads = f.integer("decode_threads", ro.reader.threads);
    ro.reader.strict = f.boolean("strict_decoding", ro.reader.strict);
    ro.filename_template = f.string("filename_template", ro.filename_template);
    ro.start_index = f.integer64("start_index", ro.start_index);
    ro.with_offset = f.boolean("with_offset", ro.with_offset);
    ro.multilabel = f.boolean("multilabel", ro.multilabel);
    ro.num_classes = f.integer("num_classes", 0);
    ro.list = f.required_string("train");
    auto tr = std::make_shared<RawFrameDataset>(ro);
    out.train = tr;
    const std::string val = f.string("val", "");
    if (!val.empty()) {
      ro.list = val;
      if (ro.num_classes == 0) ro.num_classes = tr->num_classes();
      out.val = std::make_shared<RawFrameDataset>(ro);
    }
    return out;
  }
  const Fields f(data, context, keys);
  VideoDatasetOptions vo;
  vo.root = f.string("root", "");
  vo.clip = clip_options_from_json(clip_json, ClipOptions{}, context + ".clip");
  const std::string missing = f.string("missing_videos", "error");
  ASN_CHECK(missing == "error" || missing == "skip",
            "{}: key 'missing_videos' must be \"error\" or \"skip\", got '{}'", context, missing);
  vo.missing_videos = missing == "skip" ? MissingVideos::kSkip : MissingVideos::kError;
  if (f.has("objects")) {
    const Fields of(f.get("objects"), context + ".objects", {"num_classes", "root", "suffix"});
    vo.objects.num_classes = of.integer("num_classes", 0);
    vo.objects.root = of.string("root", "");
    vo.objects.suffix = of.string("suffix", vo.objects.suffix);
  }
  vo.reader.threads = f.integer("decode_threads", vo.reader.threads);
  vo.reader.strict = f.boolean("strict_decoding", vo.reader.strict);
  const std::string train = f.required_string("train");
  const std::string val = f.string("val", "");

  if (type == "list") {
    ListDatasetOptions lo;
    const std::string sep = f.string("separator", " ");
    ASN_CHECK(sep.size() == 1, "{}: key 'separator' must be one character, got '{}'", context, sep);
    lo.list.separator = sep[0];
    lo.list.multilabel = f.boolean("multilabel", false);
    lo.num_classes = f.integer("num_classes", 0);
    lo.list.path = train;
    auto tr = load_list_dataset(lo, vo);
    out.train = tr;
    if (!val.empty()) {
      lo.list.path = val;
      if (lo.num_classes == 0) lo.num_classes = tr->num_classes();
      out.val = load_list_dataset(lo, vo);
    }
  } else if (type == "kinetics") {
    KineticsOptions ko;
    ko.class_list = f.string("class_list", "");
    ko.extension = f.string("extension", ko.extension);
    ko.label_subfolders = f.boolean("label_subfolders", false);
    ko.split = f.string("train_split", "");
    ko.csv = train;
    auto tr = load_kinetics_dataset(ko, vo);
    out.train = tr;
    if (!val.empty()) {
      ko.csv = val;
      ko.split = f.string("val_split", "");
      if (ko.class_list.empty()) ko.class_names = tr->class_names();
      out.val = load_kinetics_dataset(ko, vo);
    }
  } else if (type == "ssv2") {
    Ssv2Options so;
    so.labels = f.required_string("labels");
    so.extension = f.string("extension", so.extension);
    so.flip_label_pairs = f.boolean("flip_label_pairs", so.flip_label_pairs);
    so.annotations = train;
    out.train = load_ssv2_dataset(so, vo);
    if (!val.empty()) {
      so.annotations = val;
      out.val = load_ssv2_dataset(so, vo);
    }
  } else {
    CharadesOptions co;
    co.num_classes = f.integer("num_classes", co.num_classes);
    co.extension = f.string("extension", co.extension);
    co.csv = train;
    out.train = load_charades_dataset(co, vo);
    if (!val.empty()) {
      co.csv = val;
      out.val = load_charades_dataset(co, vo);
    }
  }
  return out;
}

LoaderOptions loader_options_from_json(const json& j, const std::string& context) {
  const Fields f(j, context,
                 {"batch_size", "num_workers", "prefetch_batches", "shuffle", "drop_last", "seed",
                  "max_failure_rate", "min_attempts", "max_substitutes"});
  LoaderOptions o;
  o.batch_size = f.integer("batch_size", o.batch_size);
  o.num_workers = f.integer("num_workers", o.num_workers);
  o.prefetch_batches = f.integer("prefetch_batches", o.prefetch_batches);
  o.shuffle = f.boolean("shuffle", o.shuffle);
  o.drop_last = f.boolean("drop_last", o.drop_last);
  o.seed = static_cast<uint64_t>(f.integer64("seed", 0));
  o.failures.max_failure_rate = f.number("max_failure_rate", o.failures.max_failure_rate);
  o.failures.min_attempts = f.integer64("min_attempts", o.failures.min_attempts);
  o.failures.max_substitutes = f.integer("max_substitutes", o.failures.max_substitutes);
  try {
    o.validate();
  } catch (const ValueError& e) {
    ASN_THROW(ValueError, "{}: {}", context, e.what());
  }
  return o;
}

}  // namespace asn::data
