// Datasets over real video files (made with ffmpeg, lossless): list files, Kinetics and Charades
// annotations, labels (single, multi, Charades time overlap), object maps cut like the frames,
// missing videos, unknown labels, too-short videos.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/data/object_maps.h"
#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
#include "engine/data/video_dataset.h"
#include "engine/error.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::data;

namespace {

// The clip of an evaluation sample with unit normalisation equals frames[idx][:, y0:y0+h, x0:x0+w]
// of the source / 255.
void require_crop(const Tensor& clip, const Tensor& src, const std::vector<int64_t>& idx, int y0,
                  int x0) {
  const int64_t h = clip.dim(1), w = clip.dim(2), H = src.dim(1), W = src.dim(2);
  REQUIRE(clip.dim(0) == static_cast<int64_t>(idx.size()));
  const float* c = clip.data<float>();
  const uint8_t* s = src.data<uint8_t>();
  for (size_t t = 0; t < idx.size(); ++t)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const float got = c[((static_cast<int64_t>(t) * h + y) * w + x) * 3 + ch];
          const float want = s[((idx[t] * H + y + y0) * W + x + x0) * 3 + ch] / 255.0f;
          if (got != Approx(want).margin(1e-6)) {
            FAIL("clip frame " << t << " (" << y << ", " << x << ", " << ch << "): " << got
                               << " vs " << want);
          }
        }
}

VideoDatasetOptions eval_options(const std::string& root) {
  VideoDatasetOptions o;
  o.root = root;
  o.clip.num_frames = 4;
  o.clip.stride = 2;
  o.clip.height = o.clip.width = 24;  // centre 24x24 of 24x32 frames: an exact crop at x = 4
  o.clip.eval_short_side = 24;
  return o;
}

}  // namespace

TEST_CASE("video dataset: list file, decoded clips equal the source frames",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("sub dir"));
  std::vector<Tensor> src;
  for (int v = 0; v < 3; ++v) src.push_back(test::pattern_frames(16, 24, 32, 40 * v));
  test::encode_video(src[0], dir.file("a.mkv"), test::kFfv1);
  test::encode_video(src[1], dir.file("sub dir/b.mkv"), test::kFfv1);
  test::encode_video(src[2], dir.file("c.mkv"), test::kFfv1);
  test::write_bytes(dir.file("train.txt"),
                    "a.mkv 2\nsub dir/b.mkv 0\n" + dir.file("c.mkv") + " 1\n");

  ListDatasetOptions list;
  list.list.path = dir.file("train.txt");
  auto ds = load_list_dataset(list, eval_options(dir.path()));
  REQUIRE(ds->size() == 3);
  REQUIRE(ds->num_classes() == 3);
  REQUIRE(!ds->is_multilabel());
  REQUIRE(ds->item_name(1) == dir.file("sub dir/b.mkv"));
  REQUIRE(ds->item_labels(0) == std::vector<int>{2});
  REQUIRE(ds->items()[1].source == dir.file("train.txt") + ":2");
  for (int64_t i = 0; i < 3; ++i) {
    SampleRequest r{Mode::kEval, Generator(0), 0};
    const Sample s = ds->get(i, r);
    REQUIRE(s.clip.shape() == Shape{4, 24, 24, 3});
    REQUIRE(s.frames == std::vector<int64_t>{5, 7, 9, 11});  // middle: floor(0.5 * (16 - 7 + 1))
    require_crop(s.clip, src[static_cast<size_t>(i)], s.frames, 0, 4);
    REQUIRE(s.label == std::vector<int>{2, 0, 1}[static_cast<size_t>(i)]);
    REQUIRE(!s.targets.defined());
    REQUIRE(!s.objects.defined());
  }
  // Training samples: deterministic per generator, frames at the stride.
  SampleRequest r1{Mode::kTrain, sample_generator(4, 2, 1), 0};
  SampleRequest r2{Mode::kTrain, sample_generator(4, 2, 1), 0};
  const Sample t1 = ds->get(1, r1), t2 = ds->get(1, r2);
  REQUIRE(std::memcmp(t1.clip.raw_data(), t2.clip.raw_data(), t1.clip.nbytes()) == 0);
  for (size_t t = 1; t < t1.frames.size(); ++t) REQUIRE(t1.frames[t] - t1.frames[t - 1] == 2);
  REQUIRE(ds->check(0).frames == 16);

  // Labels beyond num_classes, missing videos.
  list.num_classes = 2;
  REQUIRE_THROWS_WITH(load_list_dataset(list, eval_options(dir.path())),
                      Catch::Contains("train.txt:1") && Catch::Contains("unknown label 2"));
  test::write_bytes(dir.file("missing.txt"), "a.mkv 0\nnope.mkv 1\n");
  list.list.path = dir.file("missing.txt");
  list.num_classes = 0;
  REQUIRE_THROWS_AS(load_list_dataset(list, eval_options(dir.path())), IoError);
  REQUIRE_THROWS_WITH(load_list_dataset(list, eval_options(dir.path())),
                      Catch::Contains("missing.txt:2") && Catch::Contains("nope.mkv") &&
                          Catch::Contains("not found"));
  VideoDatasetOptions skip = eval_options(dir.path());
  skip.missing_videos = MissingVideos::kSkip;
  auto partial = load_list_dataset(list, skip);
  REQUIRE(partial->size() == 1);
  REQUIRE(partial->skipped().size() == 1);
  REQUIRE_THAT(partial->skipped()[0], Catch::Contains("missing.txt:2"));
}

TEST_CASE("video dataset: multi-label list file gives multi-hot targets",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  test::encode_video(test::pattern_frames(10, 24, 32), dir.file("a.mkv"), test::kFfv1);
  test::write_bytes(dir.file("m.txt"), "a.mkv 1 4\na.mkv 0,2\n");
  ListDatasetOptions list;
  list.list.path = dir.file("m.txt");
  list.list.multilabel = true;
  list.num_classes = 6;
  VideoDatasetOptions o = eval_options(dir.path());
  auto ds = load_list_dataset(list, o);
  REQUIRE(ds->is_multilabel());
  SampleRequest r{Mode::kEval, Generator(0), 0};
  REQUIRE(ds->get(0, r).targets.to_vector<float>() == std::vector<float>{0, 1, 0, 0, 1, 0});
  REQUIRE(ds->get(1, r).targets.to_vector<float>() == std::vector<float>{1, 0, 1, 0, 0, 0});
}

TEST_CASE("video dataset: Kinetics CSV, conventional file names, class maps",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(10, 24, 32);
  test::encode_video(src, dir.file("abc_000001_000011.mkv"), test::kFfv1);
  test::encode_video(src, dir.file("-x-_000120_000130.mkv"), test::kFfv1);
  test::write_bytes(dir.file("train.csv"),
                    "label,youtube_id,time_start,time_end,split,is_cc\n"
                    "yoga,abc,1,11,train,0\n"
                    "\"air drumming\",-x-,120,130,train,0\n");
  KineticsOptions k;
  k.csv = dir.file("train.csv");
  k.extension = ".mkv";
  auto ds = load_kinetics_dataset(k, eval_options(dir.path()));
  REQUIRE(ds->size() == 2);
  REQUIRE(ds->class_names() == std::vector<std::string>{"air drumming", "yoga"});
  REQUIRE(ds->item_labels(0) == std::vector<int>{1});
  REQUIRE(ds->item_labels(1) == std::vector<int>{0});
  REQUIRE(ds->item_name(1) == dir.file("-x-_000120_000130.mkv"));

  // A class list fixes the indices; a label outside it is an error naming file and line.
  test::write_bytes(dir.file("classes.txt"), "abseiling\nair drumming\nyoga\n");
  k.class_list = dir.file("classes.txt");
  ds = load_kinetics_dataset(k, eval_options(dir.path()));
  REQUIRE(ds->num_classes() == 3);
  REQUIRE(ds->item_labels(0) == std::vector<int>{2});
  test::write_bytes(dir.file("classes.txt"), "abseiling\nyoga\n");
  REQUIRE_THROWS_AS(load_kinetics_dataset(k, eval_options(dir.path())), IoError);
  REQUIRE_THROWS_WITH(
      load_kinetics_dataset(k, eval_options(dir.path())),
      Catch::Contains("train.csv:3") && Catch::Contains("unknown label 'air drumming'"));
  // The validation set reuses the training set's class names.
  k.class_list.clear();
  k.class_names = {"air drumming", "zumba", "yoga"};
  ds = load_kinetics_dataset(k, eval_options(dir.path()));
  REQUIRE(ds->item_labels(0) == std::vector<int>{2});
  // Split filter and missing videos.
  k.class_names.clear();
  test::write_bytes(dir.file("all.csv"),
                    "label,youtube_id,time_start,time_end,split\n"
                    "yoga,abc,1,11,train\n"
                    "yoga,gone,5,15,val\n");
  k.csv = dir.file("all.csv");
  k.split = "train";
  REQUIRE(load_kinetics_dataset(k, eval_options(dir.path()))->size() == 1);
  k.split.clear();
  REQUIRE_THROWS_WITH(load_kinetics_dataset(k, eval_options(dir.path())),
                      Catch::Contains("all.csv:3") && Catch::Contains("gone_000005_000015.mkv"));
}

TEST_CASE("video dataset: Charades labels are the actions overlapping the clip",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  // 30 frames at 10 fps: frame f spans [f / 10, (f + 1) / 10) seconds.
  test::encode_video(test::pattern_frames(30, 24, 32), dir.file("VID01.mkv"), test::kFfv1, 10);
  test::write_bytes(
      dir.file("Charades_v1_train.csv"),
      "id,subject,scene,quality,relevance,verified,script,objects,descriptions,"
      "actions,length\n"
      "VID01,S,Kitchen,6,7,Yes,x,o,d,c001 0.00 1.00;c002 2.00 3.00;c156 0.50 2.50,3.0\n");
  CharadesOptions c;
  c.csv = dir.file("Charades_v1_train.csv");
  c.extension = ".mkv";
  VideoDatasetOptions o = eval_options(dir.path());
  o.clip.num_frames = 4;
  o.clip.stride = 1;
  auto ds = load_charades_dataset(c, o);
  REQUIRE(ds->is_multilabel());
  REQUIRE(ds->num_classes() == 157);
  REQUIRE(ds->item_labels(0) == std::vector<int>{1, 2, 156});
  auto expected = [](int64_t start) {
    // Clip frames start..start+3 cover [start / 10, (start + 4) / 10] seconds.
    const double t0 = start / 10.0, t1 = (start + 4) / 10.0;
    std::vector<int> l;
    if (0.0 <= t1 && 1.0 >= t0) l.push_back(1);
    if (2.0 <= t1 && 3.0 >= t0) l.push_back(2);
    if (0.5 <= t1 && 2.5 >= t0) l.push_back(156);
    return l;
  };
  std::set<std::vector<int>> seen;
  for (int64_t i = 0; i < 60; ++i) {
    SampleRequest r{Mode::kTrain, sample_generator(0, 0, i), 0};
    const Sample s = ds->get(0, r);
    std::vector<int> got;
    const std::vector<float> t = s.targets.to_vector<float>();
    for (int k = 0; k < 157; ++k)
      if (t[static_cast<size_t>(k)] == 1.0f) got.push_back(k);
    INFO("clip starts at frame " << s.frames[0]);
    REQUIRE(got == expected(s.frames[0]));
    seen.insert(got);
  }
  REQUIRE(seen.size() >= 3);  // different clips really get different labels
  SampleRequest e{Mode::kEval, Generator(0), 0};
  const std::vector<float> all = ds->get(0, e).targets.to_vector<float>();
  REQUIRE(all[1] == 1.0f);
  REQUIRE(all[2] == 1.0f);
  REQUIRE(all[156] == 1.0f);
  REQUIRE(all[0] == 0.0f);
}

TEST_CASE("video dataset: object maps get the clip's frames, crop and flip",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(12, 24, 32);
  test::encode_video(src, dir.file("v.mkv"), test::kFfv1);
  // 6 maps (one per two frames) at half resolution 12x16: id = (x + 2y + f) % 4.
  Tensor maps = Tensor::empty(Shape{6, 12, 16}, DType::u8);
  for (int f = 0; f < 6; ++f)
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 16; ++x)
        maps.data<uint8_t>()[(f * 12 + y) * 16 + x] = static_cast<uint8_t>((x + 2 * y + f) % 4);
  REQUIRE(object_map_path(dir.file("v.mkv"), dir.path(), ObjectMapOptions{}) ==
          dir.file("v.objects.safetensors"));
  save_object_maps(dir.file("v.objects.safetensors"), maps, 4);
  test::write_bytes(dir.file("l.txt"), "v.mkv 0\n");
  ListDatasetOptions list;
  list.list.path = dir.file("l.txt");
  VideoDatasetOptions o = eval_options(dir.path());
  o.objects.num_classes = 4;
  auto ds = load_list_dataset(list, o);
  REQUIRE(ds->num_object_classes() == 4);
  SampleRequest r{Mode::kEval, Generator(0), 0};
  const Sample s = ds->get(0, r);  // frames 2, 4, 6, 8; crop x 4..27
  REQUIRE(s.objects.shape() == Shape{4, 24, 24, 4});
  const float* ob = s.objects.data<float>();
  for (size_t t = 0; t < 4; ++t)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 24; ++x) {
        const int64_t f = s.frames[t] / 2;
        const int id = static_cast<int>(((x + 4) / 2 + 2 * (y / 2) + f) % 4);
        for (int k = 0; k < 4; ++k)
          REQUIRE(ob[((static_cast<int64_t>(t) * 24 + y) * 24 + x) * 4 + k] ==
                  (k == id ? 1.0f : 0.0f));
      }
  // Training: the RGB clip and the maps both follow the sample's plan (the same frames, random
  // crop and flip), which plan_clip reproduces from a copy of the request.
  int flipped = 0;
  for (int64_t i = 0; i < 12; ++i) {
    SampleRequest a{Mode::kTrain, sample_generator(0, 0, i), 0};
    SampleRequest copy = a;
    const Sample ts = ds->get(0, a);
    const ClipPlan plan = plan_clip(12, 24, 32, ds->clip_options(), copy, "v");
    REQUIRE(plan.frames == ts.frames);
    REQUIRE(plan.box.flip == ts.flipped);
    flipped += ts.flipped ? 1 : 0;
    std::vector<int64_t> f(ts.frames);
    const Tensor rgb = crop_resize_normalize(test::pattern_frames(12, 24, 32), plan.box, 24, 24,
                                             Normalization::kUnit);
    Tensor picked = Tensor::empty(Shape{4, 24, 24, 3}, DType::f32);
    const size_t fb = 24 * 24 * 3;
    for (size_t t = 0; t < 4; ++t)
      std::memcpy(picked.data<float>() + t * fb, rgb.data<float>() + f[t] * fb, fb * sizeof(float));
    REQUIRE(std::memcmp(picked.raw_data(), ts.clip.raw_data(), ts.clip.nbytes()) == 0);
    const Tensor om =
        object_maps_one_hot(maps, object_map_frames(f, 12, 6), 24, 32, plan.box, 24, 24, 4, "m");
    REQUIRE(std::memcmp(om.raw_data(), ts.objects.raw_data(), om.nbytes()) == 0);
  }
  REQUIRE(flipped > 0);
  REQUIRE(flipped < 12);
  // Missing or bad map files are IoErrors naming the file.
  std::filesystem::remove(dir.file("v.objects.safetensors"));
  REQUIRE_THROWS_WITH(ds->get(0, r),
                      Catch::Contains("v.objects.safetensors") && Catch::Contains("not found"));
  REQUIRE_THROWS_AS(ds->check(0), IoError);
  maps.data<uint8_t>()[7] = 4;
  save_object_maps(dir.file("v.objects.safetensors"), maps, 4);
  REQUIRE_THROWS_WITH(ds->get(0, r),
                      Catch::Contains("v.objects.safetensors") && Catch::Contains("id 4"));
  // A separate object root mirrors the relative path.
  ObjectMapOptions other;
  other.root = "/maps";
  REQUIRE(object_map_path(dir.file("a/b.mp4"), dir.path(), other) ==
          "/maps/a/b.objects.safetensors");
}

TEST_CASE("video dataset: check() and get() reject too-short and broken videos",
          "[data][dataset][errors][ffmpeg]") {
  test::TempDir dir;
  test::encode_video(test::pattern_frames(5, 24, 32), dir.file("short.mkv"), test::kFfv1);
  test::write_bytes(dir.file("broken.mp4"), std::string(3000, 'x'));
  test::write_bytes(dir.file("l.txt"), "short.mkv 0\nbroken.mp4 1\n");
  ListDatasetOptions list;
  list.list.path = dir.file("l.txt");
  auto ds = load_list_dataset(list, eval_options(dir.path()));  // clip span 7
  REQUIRE_THROWS_WITH(ds->check(0), Catch::Contains("short.mkv") && Catch::Contains("too short"));
  SampleRequest r{Mode::kTrain, Generator(0), 0};
  REQUIRE_THROWS_AS(ds->get(0, r), IoError);
  REQUIRE_THROWS_WITH(ds->get(1, r), Catch::Contains("broken.mp4"));
  // With the loop policy the short video is usable.
  VideoDatasetOptions loop = eval_options(dir.path());
  loop.clip.out_of_range = video::OutOfRange::kLoop;
  auto looped = load_list_dataset(list, loop);
  REQUIRE(looped->check(0).frames == 5);
  REQUIRE(looped->get(0, r).frames.size() == 4);
}

TEST_CASE("video dataset: Something-Something V2 JSON, <id> videos, left/right flip pairs",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(10, 24, 32);
  test::encode_video(src, dir.file("78687.mkv"), test::kFfv1);
  test::encode_video(src, dir.file("42326.mkv"), test::kFfv1);
  test::write_bytes(dir.file("labels.json"),
                    R"({"Pushing something from left to right": "0", "Putting something on a surface": "1",
                        "Pushing something from right to left": "2"})");
  test::write_bytes(dir.file("train.json"),
                    R"([{"id": "78687", "template": "Pushing [something] from right to left", "placeholders": ["a box"]},
                        {"id": "42326", "template": "Putting [something] on a surface", "placeholders": ["a cup"]}])");
  Ssv2Options o;
  o.labels = dir.file("labels.json");
  o.annotations = dir.file("train.json");
  o.extension = ".mkv";
  auto ds = load_ssv2_dataset(o, eval_options(dir.path()));
  REQUIRE(ds->size() == 2);
  REQUIRE(ds->num_classes() == 3);
  REQUIRE(ds->class_names()[2] == "Pushing something from right to left");
  REQUIRE(ds->item_labels(0) == std::vector<int>{2});
  REQUIRE(ds->item_labels(1) == std::vector<int>{1});
  REQUIRE(ds->item_name(0) == dir.file("78687.mkv"));
  // Flipping swaps the left/right pair and keeps the rest.
  REQUIRE(ds->clip_options().flip_label_map == std::vector<int>{2, 1, 0});
  o.flip_label_pairs = false;
  REQUIRE(load_ssv2_dataset(o, eval_options(dir.path()))->clip_options().flip_label_map.empty());
  // A missing video names the annotation file and entry.
  test::write_bytes(dir.file("val.json"), R"([{"id": "1", "template": "Putting [something] on a surface"}])");
  o.annotations = dir.file("val.json");
  REQUIRE_THROWS_WITH(load_ssv2_dataset(o, eval_options(dir.path())),
                      Catch::Contains("val.json: entry 0") && Catch::Contains("1.mkv"));
}

TEST_CASE("ssv2 flip map: pairs differ only by left to right / right to left", "[data][dataset]") {
  const std::vector<std::string> names = {"Moving something from left to right", "Dropping something",
                                          "Moving something from right to left", "Turning something left to right",
                                          "Pulling something from right to left"};
  // 3 has no "right to left" partner, 4 has no "left to right" partner: both stay.
  REQUIRE(ssv2_flip_label_map(names) == std::vector<int>{2, 1, 0, 3, 4});
}
