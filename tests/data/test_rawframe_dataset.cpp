// Frame-folder datasets (MMAction2 rawframes): the list parser (offsets, multi-label, malformed
// lines) and, with real PNG frames written by the ffmpeg tool (lossless), clips equal to the source
// frames, the filename template and start index, offsets, training determinism, and errors naming
// the list line or the image (missing frame, frame of another size, bad template, missing folder).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "engine/data/rawframe_dataset.h"
#include "engine/error.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::data;

namespace {

// Writes frames (F, H, W, 3) as <dir>/img_00001.png ... (1-based), lossless.
void write_frames(const Tensor& frames, const std::string& dir, const std::string& pattern = "img_%05d.png",
                  int start = 1) {
  std::filesystem::create_directories(dir);
  test::encode_video(frames, dir + "/" + pattern, "-c:v png -start_number " + std::to_string(start));
}

RawFrameOptions eval_options(const std::string& root, const std::string& list) {
  RawFrameOptions o;
  o.root = root;
  o.list = list;
  o.filename_template = "img_{:05}.png";
  o.clip.num_frames = 4;
  o.clip.stride = 2;
  o.clip.height = o.clip.width = 24;  // centre 24x24 of 24x32 frames: an exact crop at x = 4
  o.clip.eval_short_side = 24;
  return o;
}

// clip == src[frames][:, 0:24, 4:28] / 255 (eval, unit normalisation).
void require_frames(const Tensor& clip, const Tensor& src, const std::vector<int64_t>& idx) {
  const int64_t h = clip.dim(1), w = clip.dim(2), H = src.dim(1), W = src.dim(2);
  for (size_t t = 0; t < idx.size(); ++t)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          const float got = clip.data<float>()[((static_cast<int64_t>(t) * h + y) * w + x) * 3 + c];
          const float want = src.data<uint8_t>()[((idx[t] * H + y) * W + x + 4) * 3 + c] / 255.0f;
          if (got != Approx(want).margin(1e-6)) FAIL("frame " << t << " (" << y << ", " << x << ", " << c << ")");
        }
}

}  // namespace

TEST_CASE("rawframe list: offsets, multi-label, malformed lines name file and line", "[data][annotations]") {
  auto items = parse_rawframe_list("a/b 30 4\n\nc 12 1\n", "train.txt", false, false);
  REQUIRE(items.size() == 2);
  REQUIRE(items[0].dir == "a/b");
  REQUIRE(items[0].total_frames == 30);
  REQUIRE(items[0].labels == std::vector<int>{4});
  REQUIRE(items[1].source == "train.txt:3");
  items = parse_rawframe_list("v 5 40 1 3\nw 0 8 2,7\n", "l.txt", true, true);
  REQUIRE(items[0].offset == 5);
  REQUIRE(items[0].total_frames == 40);
  REQUIRE(items[0].labels == std::vector<int>{1, 3});
  REQUIRE(items[1].labels == std::vector<int>{2, 7});
  auto fails = [](const std::string& text, bool offset, bool multi, const std::string& what) {
    REQUIRE_THROWS_AS(parse_rawframe_list(text, "t.txt", offset, multi), IoError);
    REQUIRE_THROWS_WITH(parse_rawframe_list(text, "t.txt", offset, multi), Catch::Contains(what));
  };
  fails("a 10\n", false, false, "t.txt:1: expected");
  fails("a 10 1\nb ten 1\n", false, false, "t.txt:2: total_frames must be a non-negative integer");
  fails("a 0 1\n", false, false, "total_frames is 0");
  fails("a 10 1 2\n", false, false, "2 labels on a line of a single-label list");
  fails("a 10 x\n", false, false, "a label must be");
  fails("a 10 1\n", true, false, "t.txt:1: expected \"<frame_dir> <offset> <total_frames> <label>\"");
}

TEST_CASE("rawframe dataset: clips equal the source frames; template, start index and offsets",
          "[data][dataset][ffmpeg]") {
  test::TempDir dir;
  const Tensor a = test::pattern_frames(16, 24, 32), b = test::pattern_frames(16, 24, 32, 50);
  write_frames(a, dir.file("frames/a"));
  write_frames(b, dir.file("frames/b"));
  test::write_bytes(dir.file("train.txt"), "frames/a 16 2\nframes/b 16 0\n");
  RawFrameDataset ds(eval_options(dir.path(), dir.file("train.txt")));
  REQUIRE(ds.size() == 2);
  REQUIRE(ds.num_classes() == 3);
  REQUIRE(ds.item_name(1) == dir.file("frames/b"));
  REQUIRE(ds.frame_path(0, 0) == dir.file("frames/a/img_00001.png"));
  for (int64_t i = 0; i < 2; ++i) {
    SampleRequest r{Mode::kEval, Generator(0), 0};
    const Sample s = ds.get(i, r);
    REQUIRE(s.clip.shape() == Shape{4, 24, 24, 3});
    REQUIRE(s.frames == std::vector<int64_t>{5, 7, 9, 11});  // the middle clip, as for a video
    require_frames(s.clip, i == 0 ? a : b, s.frames);
    REQUIRE(s.label == (i == 0 ? 2 : 0));
  }
  SampleRequest r1{Mode::kTrain, sample_generator(4, 2, 1), 0}, r2{Mode::kTrain, sample_generator(4, 2, 1), 0};
  const Sample t1 = ds.get(1, r1), t2 = ds.get(1, r2);
  REQUIRE(std::memcmp(t1.clip.raw_data(), t2.clip.raw_data(), t1.clip.nbytes()) == 0);
  REQUIRE(ds.check(0).frames == 16);
  REQUIRE(ds.check(0).width == 32);

  // An offset of 6 in a folder numbered from 0: frame 0 is img_00006.png = source frame 6.
  write_frames(a, dir.file("frames/zero"), "img_%05d.png", 0);
  test::write_bytes(dir.file("offset.txt"), "frames/zero 6 10 1\n");
  RawFrameOptions o = eval_options(dir.path(), dir.file("offset.txt"));
  o.with_offset = true;
  o.start_index = 0;
  RawFrameDataset off(o);
  REQUIRE(off.frame_path(0, 0) == dir.file("frames/zero/img_00006.png"));
  SampleRequest r{Mode::kEval, Generator(0), 0};
  const Sample s = off.get(0, r);
  std::vector<int64_t> src_idx;
  for (int64_t f : s.frames) src_idx.push_back(f + 6);
  require_frames(s.clip, a, src_idx);
}

TEST_CASE("rawframe dataset: missing frames, size changes, bad templates and folders are clear errors",
          "[data][dataset][errors][ffmpeg]") {
  test::TempDir dir;
  write_frames(test::pattern_frames(8, 24, 32), dir.file("v"));
  // The list claims 12 frames but the folder holds 8.
  test::write_bytes(dir.file("long.txt"), "v 12 0\n");
  RawFrameOptions o = eval_options(dir.path(), dir.file("long.txt"));
  o.clip.stride = 3;  // the middle clip: frames 1, 4, 7, 10
  RawFrameDataset ds(o);
  SampleRequest r{Mode::kEval, Generator(0), 0};
  REQUIRE_THROWS_AS(ds.get(0, r), IoError);
  REQUIRE_THROWS_WITH(ds.get(0, r), Catch::Contains("img_00011.png: frame 10 is missing"));
  REQUIRE_THROWS_WITH(ds.check(0), Catch::Contains("long.txt:1") && Catch::Contains("4 of 12 listed frames are missing"));
  // A frame of another size.
  write_frames(test::pattern_frames(1, 20, 20), dir.file("odd"), "img_%05d.png", 5);
  std::filesystem::copy(dir.file("v/img_00001.png"), dir.file("odd/img_00001.png"));
  for (int k = 2; k <= 4; ++k) std::filesystem::copy(dir.file("v/img_00001.png"), dir.file("odd/img_0000" + std::to_string(k) + ".png"));
  test::write_bytes(dir.file("odd.txt"), "odd 5 0\n");
  RawFrameOptions oo = eval_options(dir.path(), dir.file("odd.txt"));
  oo.clip.num_frames = 5;
  oo.clip.stride = 1;
  RawFrameDataset odd(oo);
  REQUIRE_THROWS_WITH(odd.get(0, r), Catch::Contains("img_00005.png") && Catch::Contains("20x20 but frame 0"));
  // Template, folder, label checks at construction.
  test::write_bytes(dir.file("ok.txt"), "v 8 3\n");
  RawFrameOptions bad = eval_options(dir.path(), dir.file("ok.txt"));
  bad.filename_template = "img_{:05d.png";
  REQUIRE_THROWS_WITH(RawFrameDataset(bad), Catch::Contains("filename_template 'img_{:05d.png'"));
  bad = eval_options(dir.path(), dir.file("ok.txt"));
  bad.num_classes = 3;
  REQUIRE_THROWS_WITH(RawFrameDataset(bad), Catch::Contains("ok.txt:1: label 3 is not below num_classes 3"));
  test::write_bytes(dir.file("gone.txt"), "v 8 0\nnot_there 8 1\n");
  REQUIRE_THROWS_WITH(RawFrameDataset(eval_options(dir.path(), dir.file("gone.txt"))),
                      Catch::Contains("gone.txt:2: frame folder") && Catch::Contains("not_there"));
}
