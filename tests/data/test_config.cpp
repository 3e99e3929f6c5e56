// Data and loader configuration from JSON: defaults, overrides, round trip of the clip options,
// datasets of every type, and errors naming the key path.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/data/config.h"
#include "engine/data/synthetic.h"
#include "engine/error.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::data;
using nlohmann::json;

TEST_CASE("config: clip options from JSON, defaults kept, round trip", "[data][config]") {
  const ClipOptions o = clip_options_from_json(
      json::parse(R"({"num_frames": 16, "stride": 2, "area": [0.08, 1.0], "aspect": [0.75, 1.333],
                      "normalization": "kinetics", "out_of_range": "loop", "num_clips": 10,
                      "num_crops": 3, "eval_short_side": 256})"),
      ClipOptions{});
  REQUIRE(o.num_frames == 16);
  REQUIRE(o.stride == 2);
  REQUIRE(o.area_min == 0.08);
  REQUIRE(o.aspect_max == 1.333);
  REQUIRE(o.normalization == Normalization::kKinetics);
  REQUIRE(o.out_of_range == video::OutOfRange::kLoop);
  REQUIRE(o.num_views() == 30);
  REQUIRE(o.height == 224);  // default kept
  REQUIRE(o.flip);
  const ClipOptions back = clip_options_from_json(clip_options_to_json(o), ClipOptions{});
  REQUIRE(clip_options_to_json(back) == clip_options_to_json(o));

  REQUIRE_THROWS_WITH(clip_options_from_json(json{{"num_frame", 8}}, ClipOptions{}),
                      Catch::Contains("data.clip: unknown key 'num_frame'"));
  REQUIRE_THROWS_WITH(clip_options_from_json(json{{"stride", "2"}}, ClipOptions{}),
                      Catch::Contains("'stride' must be an integer"));
  REQUIRE_THROWS_WITH(clip_options_from_json(json{{"area", {0.5}}}, ClipOptions{}),
                      Catch::Contains("'area' must be [min, max]"));
  REQUIRE_THROWS_WITH(clip_options_from_json(json{{"num_crops", 2}}, ClipOptions{}),
                      Catch::Contains("data.clip") && Catch::Contains("num_crops must be 1 or 3"));
}

TEST_CASE("config: the synthetic dataset from JSON", "[data][config]") {
  const DatasetPair d = make_datasets(json::parse(
      R"({"type": "synthetic", "synthetic": {"num_classes": 8, "num_train": 100, "num_val": 20,
          "height": 24, "width": 24, "objects": true}, "clip": {"num_frames": 6}})"));
  REQUIRE(d.train->size() == 100);
  REQUIRE(d.val->size() == 20);
  REQUIRE(d.train->num_classes() == 8);
  REQUIRE(d.train->num_object_classes() == 3);
  REQUIRE(d.train->clip_options().num_frames == 6);
  REQUIRE(d.train->clip_options().height == 24);  // the synthetic default: the generated size
  REQUIRE(d.train->item_name(0) == "synthetic/train/0");
  REQUIRE(d.val->item_name(0) == "synthetic/val/0");
  REQUIRE_THROWS_WITH(
      make_datasets(json::parse(R"({"type": "synthetic", "synthetic": {"nosie": 1}})")),
      Catch::Contains("data.synthetic: unknown key 'nosie'"));
  REQUIRE_THROWS_WITH(make_datasets(json::parse(R"({"type": "ucf"})")),
                      Catch::Contains("unknown type 'ucf'"));
  REQUIRE_THROWS_WITH(make_datasets(json::parse(R"({"type": "list", "root": "x"})")),
                      Catch::Contains("missing required key 'train'"));
  REQUIRE_THROWS_WITH(
      make_datasets(json::parse(R"({"type": "list", "train": "t", "class_list": "c"})")),
      Catch::Contains("unknown key 'class_list'"));
}

TEST_CASE("config: list and Kinetics datasets from JSON share classes", "[data][config][ffmpeg]") {
  test::TempDir dir;
  test::encode_video(test::pattern_frames(10, 16, 16), dir.file("a_000001_000002.mkv"),
                     test::kFfv1);
  test::encode_video(test::pattern_frames(10, 16, 16, 3), dir.file("b_000003_000004.mkv"),
                     test::kFfv1);
  test::write_bytes(dir.file("train.txt"), "a_000001_000002.mkv 4\n");
  test::write_bytes(dir.file("val.txt"), "b_000003_000004.mkv 1\n");
  json list = {{"type", "list"},
               {"root", dir.path()},
               {"train", dir.file("train.txt")},
               {"val", dir.file("val.txt")},
               {"clip", {{"num_frames", 4}, {"height", 16}, {"width", 16}}}};
  DatasetPair d = make_datasets(list);
  REQUIRE(d.train->num_classes() == 5);
  REQUIRE(d.val->num_classes() == 5);  // the validation set takes the training set's count

  test::write_bytes(dir.file("train.csv"),
                    "label,youtube_id,time_start,time_end,split\nzumba,a,1,2,train\n");
  test::write_bytes(dir.file("val.csv"),
                    "label,youtube_id,time_start,time_end,split\nzumba,b,3,4,val\n");
  json kin = {{"type", "kinetics"},
              {"root", dir.path()},
              {"train", dir.file("train.csv")},
              {"val", dir.file("val.csv")},
              {"extension", ".mkv"},
              {"missing_videos", "skip"},
              {"clip", {{"num_frames", 4}, {"height", 16}, {"width", 16}}}};
  d = make_datasets(kin);
  REQUIRE(d.train->class_names() == std::vector<std::string>{"zumba"});
  REQUIRE(d.val->class_names() == std::vector<std::string>{"zumba"});
  kin["missing_videos"] = "ignore";
  REQUIRE_THROWS_WITH(make_datasets(kin), Catch::Contains("'missing_videos'"));
}

TEST_CASE("config: loader options from JSON", "[data][config]") {
  const LoaderOptions o = loader_options_from_json(json::parse(
      R"({"batch_size": 16, "num_workers": 4, "max_failure_rate": 0.01, "min_attempts": 100})"));
  REQUIRE(o.batch_size == 16);
  REQUIRE(o.num_workers == 4);
  REQUIRE(o.failures.max_failure_rate == 0.01);
  REQUIRE(o.failures.min_attempts == 100);
  REQUIRE(o.prefetch_batches == 4);
  REQUIRE_THROWS_WITH(loader_options_from_json(json{{"batch", 2}}),
                      Catch::Contains("loader: unknown key 'batch'"));
  REQUIRE_THROWS_WITH(loader_options_from_json(json{{"batch_size", 0}}),
                      Catch::Contains("loader") && Catch::Contains("batch_size must be >= 1"));
}

TEST_CASE("config: a Something-Something V2 dataset from JSON", "[data][config][ffmpeg]") {
  test::TempDir dir;
  test::encode_video(test::pattern_frames(10, 16, 16), dir.file("11.mkv"), test::kFfv1);
  test::encode_video(test::pattern_frames(10, 16, 16, 3), dir.file("12.mkv"), test::kFfv1);
  test::write_bytes(dir.file("labels.json"), R"({"Pulling something from left to right": "0",
                                                  "Pulling something from right to left": "1"})");
  test::write_bytes(dir.file("train.json"), R"([{"id": 11, "template": "Pulling [something] from left to right"}])");
  test::write_bytes(dir.file("val.json"), R"([{"id": "12", "template": "Pulling [something] from right to left"}])");
  json cfg = {{"type", "ssv2"},         {"root", dir.path()},          {"labels", dir.file("labels.json")},
              {"train", dir.file("train.json")}, {"val", dir.file("val.json")}, {"extension", ".mkv"}};
  DatasetPair d = make_datasets(cfg);
  REQUIRE(d.train->size() == 1);
  REQUIRE(d.val->size() == 1);
  REQUIRE(d.train->item_labels(0) == std::vector<int>{0});
  REQUIRE(d.val->item_labels(0) == std::vector<int>{1});
  REQUIRE(d.train->clip_options().flip_label_map == std::vector<int>{1, 0});
  cfg["flip_label_pairs"] = false;
  REQUIRE(make_datasets(cfg).train->clip_options().flip_label_map.empty());
  cfg.erase("labels");
  REQUIRE_THROWS_WITH(make_datasets(cfg), Catch::Contains("missing required key 'labels'"));
}

TEST_CASE("config: a rawframes dataset from JSON", "[data][config][ffmpeg]") {
  test::TempDir dir;
  for (const char* v : {"a", "b"}) {
    std::filesystem::create_directories(dir.file(v));
    test::encode_video(test::pattern_frames(6, 16, 16), dir.file(std::string(v) + "/img_%05d.jpg"),
                       "-c:v mjpeg -q:v 2 -start_number 1");
  }
  test::write_bytes(dir.file("train.txt"), "a 6 3\n");
  test::write_bytes(dir.file("val.txt"), "b 6 1\n");
  json cfg = {{"type", "rawframes"}, {"root", dir.path()}, {"train", dir.file("train.txt")},
              {"val", dir.file("val.txt")}, {"clip", {{"num_frames", 2}, {"height", 16}, {"width", 16}}}};
  DatasetPair d = make_datasets(cfg);  // the default template img_{:05}.jpg, frames from 1
  REQUIRE(d.train->num_classes() == 4);
  REQUIRE(d.val->num_classes() == 4);  // the validation set shares the training set's classes
  SampleRequest r{Mode::kEval, Generator(0), 0};
  REQUIRE(d.val->get(0, r).clip.shape() == Shape{2, 16, 16, 3});
  REQUIRE(d.val->get(0, r).label == 1);
  cfg["missing_videos"] = "skip";
  REQUIRE_THROWS_WITH(make_datasets(cfg), Catch::Contains("unknown key 'missing_videos'"));
}
