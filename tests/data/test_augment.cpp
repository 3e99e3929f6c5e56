// Clip sampling and augmentation: temporal starts, random resized crop ranges and determinism,
// evaluation crops (centre and three crops), crop/resize/flip geometry and normalisation on tiny
// known images, and object maps cut with the same geometry.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
#include "engine/error.h"

using namespace asn;
using namespace asn::data;

namespace {

// u8 (T, H, W, 3) with value(t, y, x, c) = f(t, y, x, c).
template <class F>
Tensor image(int T, int H, int W, F f) {
  Tensor t = Tensor::empty(Shape{T, H, W, 3}, DType::u8);
  uint8_t* p = t.data<uint8_t>();
  for (int a = 0; a < T; ++a)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        for (int c = 0; c < 3; ++c)
          p[(((a * H) + y) * W + x) * 3 + c] = static_cast<uint8_t>(f(a, y, x, c));
  return t;
}

float at(const Tensor& t, int a, int y, int x, int c) {
  return t.data<float>()[((a * t.dim(1) + y) * t.dim(2) + x) * t.dim(3) + c];
}

}  // namespace

TEST_CASE("sampling: temporal starts for training and evaluation", "[data][augment]") {
  ClipOptions o;
  o.num_frames = 4;
  o.stride = 2;  // span 7
  REQUIRE(clip_span(o) == 7);
  std::set<int64_t> seen;
  Generator g(5);
  for (int i = 0; i < 400; ++i) {
    const int64_t s = train_clip_start(20, o, g);
    REQUIRE(s >= 0);
    REQUIRE(s <= 13);
    seen.insert(s);
  }
  REQUIRE(seen.size() == 14);  // every start in [0, 13] is drawn
  Generator g1(9), g2(9);
  REQUIRE(train_clip_start(100, o, g1) == train_clip_start(100, o, g2));
  REQUIRE(train_clip_start(5, o, g1) == 0);  // shorter than the span

  // Evaluation: the middle clip, and evenly spaced clips centred in their segments.
  REQUIRE(eval_clip_start(20, o, 0) == 7);  // floor(0.5 * 14)
  o.num_clips = 3;
  REQUIRE(eval_clip_start(37, o, 0) == 5);   // slack 30: floor(0.5 * 31 / 3)
  REQUIRE(eval_clip_start(37, o, 1) == 15);  // floor(1.5 * 31 / 3)
  REQUIRE(eval_clip_start(37, o, 2) == 25);  // floor(2.5 * 31 / 3)
  REQUIRE(eval_clip_start(6, o, 2) == 0);
  REQUIRE_THROWS_WITH(eval_clip_start(37, o, 3), Catch::Contains("clip 3 of 3"));
}

TEST_CASE("sampling: random resized crop stays in range and is deterministic", "[data][augment]") {
  ClipOptions o;  // area [0.49, 1], aspect [0.5, 2]
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Generator g(seed);
    const CropBox b = random_resized_crop(120, 160, o, g);
    INFO("seed " << seed << " box " << b.x0 << "," << b.y0 << " " << b.w << "x" << b.h);
    REQUIRE(b.x0 >= 0);
    REQUIRE(b.y0 >= 0);
    REQUIRE(b.x0 + b.w <= 160);
    REQUIRE(b.y0 + b.h <= 120);
    REQUIRE(b.x0 == std::floor(b.x0));
    REQUIRE(b.w == std::floor(b.w));
    const double area = b.w * b.h / (120.0 * 160.0);
    REQUIRE(area >= 0.47);  // 0.49 up to whole-pixel rounding
    REQUIRE(area <= 1.0);
    REQUIRE(b.w / b.h >= 0.5 * 0.97);
    REQUIRE(b.w / b.h <= 2.0 * 1.03);
    Generator again(seed);
    const CropBox c = random_resized_crop(120, 160, o, again);
    REQUIRE((c.x0 == b.x0 && c.y0 == b.y0 && c.w == b.w && c.h == b.h));
  }
  // No box can fit: the whole frame.
  o.area_min = o.area_max = 1.0;
  o.aspect_min = 2.5;
  o.aspect_max = 3.0;
  Generator g(1);
  const CropBox whole = random_resized_crop(30, 40, o, g);
  REQUIRE((whole.x0 == 0 && whole.y0 == 0 && whole.w == 40 && whole.h == 30));
}

TEST_CASE("sampling: evaluation crops after resizing the short side", "[data][augment]") {
  ClipOptions o;
  o.height = o.width = 20;
  o.eval_short_side = 20;
  // Landscape 40x60 -> resized 20x30: centre crop at x = 5, i.e. source x0 = 10, width 40.
  CropBox b = eval_crop(40, 60, o, 0);
  REQUIRE(b.x0 == Approx(10));
  REQUIRE(b.y0 == Approx(0));
  REQUIRE(b.w == Approx(40));
  REQUIRE(b.h == Approx(40));
  o.num_crops = 3;  // left, centre, right
  REQUIRE(eval_crop(40, 60, o, 0).x0 == Approx(0));
  REQUIRE(eval_crop(40, 60, o, 1).x0 == Approx(10));
  REQUIRE(eval_crop(40, 60, o, 2).x0 == Approx(20));
  // Portrait 60x40: top, centre, bottom.
  REQUIRE(eval_crop(60, 40, o, 0).y0 == Approx(0));
  REQUIRE(eval_crop(60, 40, o, 2).y0 == Approx(20));
  REQUIRE(eval_crop(60, 40, o, 2).x0 == Approx(0));
  // eval_short_side 0: the short side becomes the crop size.
  o.eval_short_side = 0;
  o.num_crops = 1;
  b = eval_crop(10, 30, o, 0);  // scale 2 -> 20x60, centre x 20 -> source 10, width 10
  REQUIRE(b.x0 == Approx(10));
  REQUIRE(b.w == Approx(10));
  REQUIRE(b.h == Approx(10));
}

TEST_CASE("transforms: crop, flip and bilinear resize on tiny known images", "[data][augment]") {
  const Tensor img = image(
      2, 5, 6, [](int t, int y, int x, int c) { return 40 * t + 10 * y + x + 100 * (c == 2); });
  // A box of the output's size at whole pixels is an exact crop; values / 255 under "unit".
  Tensor out = crop_resize_normalize(img, CropBox{2, 1, 3, 4, false}, 4, 3, Normalization::kUnit);
  REQUIRE(out.shape() == Shape{2, 4, 3, 3});
  for (int t = 0; t < 2; ++t)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 3; ++x)
        for (int c = 0; c < 3; ++c)
          REQUIRE(at(out, t, y, x, c) ==
                  Approx((40 * t + 10 * (y + 1) + (x + 2) + 100 * (c == 2)) / 255.0).epsilon(1e-6));
  // Flipped: output column x shows source column 2 + (2 - x).
  out = crop_resize_normalize(img, CropBox{2, 1, 3, 4, true}, 4, 3, Normalization::kUnit);
  REQUIRE(at(out, 1, 2, 0, 0) * 255 == Approx(40 + 30 + 4));
  REQUIRE(at(out, 1, 2, 2, 0) * 255 == Approx(40 + 30 + 2));

  // Downscale 4x4 -> 2x2: samples at 0.5 and 2.5, the mean of 2x2 blocks.
  const Tensor sq = image(1, 4, 4, [](int, int y, int x, int) { return 16 * y + 4 * x; });
  out = crop_resize_normalize(sq, CropBox{0, 0, 4, 4, false}, 2, 2, Normalization::kUnit);
  REQUIRE(at(out, 0, 0, 0, 0) * 255 == Approx((0 + 4 + 16 + 20) / 4.0));
  REQUIRE(at(out, 0, 1, 1, 1) * 255 == Approx((40 + 44 + 56 + 60) / 4.0));
  // Upscale a 1x2 row to 1x4: positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  const Tensor row = image(1, 1, 2, [](int, int, int x, int) { return x == 0 ? 100 : 200; });
  out = crop_resize_normalize(row, CropBox{0, 0, 2, 1, false}, 1, 4, Normalization::kUnit);
  REQUIRE(at(out, 0, 0, 0, 0) * 255 == Approx(100));
  REQUIRE(at(out, 0, 0, 1, 0) * 255 == Approx(125));
  REQUIRE(at(out, 0, 0, 2, 0) * 255 == Approx(175));
  REQUIRE(at(out, 0, 0, 3, 0) * 255 == Approx(200));

  REQUIRE_THROWS_AS(crop_resize_normalize(Tensor::zeros(Shape{1, 4, 4, 3}), CropBox{0, 0, 4, 4}, 2,
                                          2, Normalization::kUnit),
                    TypeError);
  REQUIRE_THROWS_WITH(crop_resize_normalize(Tensor::zeros(Shape{4, 4, 3}, DType::u8),
                                            CropBox{0, 0, 4, 4}, 2, 2, Normalization::kUnit),
                      Catch::Contains("crop_resize_normalize") && Catch::Contains("(4, 4, 3)"));
}

TEST_CASE("transforms: normalisation presets", "[data][augment]") {
  const Tensor px = image(1, 1, 1, [](int, int, int, int c) {
    return c == 0 ? 0 : c == 1 ? 128 : 255;
  });
  const CropBox box{0, 0, 1, 1, false};
  auto norm = [&](Normalization n, int c) {
    return at(crop_resize_normalize(px, box, 1, 1, n), 0, 0, 0, c);
  };
  REQUIRE(norm(Normalization::kUnit, 2) == Approx(1.0));
  REQUIRE(norm(Normalization::kUnit, 1) == Approx(128 / 255.0));
  REQUIRE(norm(Normalization::kCentered, 0) == Approx(-1.0));
  REQUIRE(norm(Normalization::kCentered, 2) == Approx(1.0));
  REQUIRE(norm(Normalization::kKinetics, 0) == Approx(-0.45 / 0.225));
  REQUIRE(norm(Normalization::kKinetics, 2) == Approx((1 - 0.45) / 0.225));
  REQUIRE(norm(Normalization::kImageNet, 0) == Approx(-0.485 / 0.229));
  REQUIRE(norm(Normalization::kImageNet, 1) == Approx((128 / 255.0 - 0.456) / 0.224));
  REQUIRE(norm(Normalization::kImageNet, 2) == Approx((1 - 0.406) / 0.225));
  REQUIRE(normalization_from_name("kinetics") == Normalization::kKinetics);
  REQUIRE_THROWS_WITH(normalization_from_name("caffe"), Catch::Contains("caffe"));
}

TEST_CASE("transforms: object maps follow the frames, crop and flip of the clip",
          "[data][augment]") {
  // Maps at half the video resolution (video 8x12, maps 4x6), 3 maps for a 6-frame video.
  Tensor maps = Tensor::empty(Shape{3, 4, 6}, DType::u8);
  uint8_t* m = maps.data<uint8_t>();
  for (int f = 0; f < 3; ++f)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x) m[(f * 4 + y) * 6 + x] = static_cast<uint8_t>((x + y + f) % 4);
  const CropBox box{4, 2, 6, 4, true};  // video pixels x 4..9, y 2..5, flipped, output 4x6 (1:1)
  const Tensor oh = object_maps_one_hot(maps, {0, 2}, 8, 12, box, 4, 6, 4, "m");
  REQUIRE(oh.shape() == Shape{2, 4, 6, 4});
  for (int t = 0; t < 2; ++t)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x) {
        const int vx = 4 + (5 - x), vy = 2 + y;  // the video pixel this output pixel shows
        const int f = t == 0 ? 0 : 2;
        const int id = (vx / 2 + vy / 2 + f) % 4;
        for (int c = 0; c < 4; ++c) REQUIRE(at(oh, t, y, x, c) == (c == id ? 1.0f : 0.0f));
      }
  maps.data<uint8_t>()[5] = 9;
  REQUIRE_THROWS_AS(object_maps_one_hot(maps, {0}, 8, 12, CropBox{0, 0, 12, 8}, 4, 6, 4, "o.st"),
                    IoError);
  REQUIRE_THROWS_WITH(object_maps_one_hot(maps, {0}, 8, 12, CropBox{0, 0, 12, 8}, 4, 6, 4, "o.st"),
                      Catch::Contains("o.st") && Catch::Contains("id 9"));
}

TEST_CASE("sampling: a training plan depends only on the request's generator", "[data][augment]") {
  ClipOptions o;
  o.num_frames = 4;
  o.height = o.width = 16;
  SampleRequest a{Mode::kTrain, sample_generator(3, 1, 42), 0};
  SampleRequest b{Mode::kTrain, sample_generator(3, 1, 42), 0};
  const ClipPlan pa = plan_clip(50, 60, 80, o, a, "v");
  const ClipPlan pb = plan_clip(50, 60, 80, o, b, "v");
  REQUIRE(pa.frames == pb.frames);
  REQUIRE((pa.box.x0 == pb.box.x0 && pa.box.w == pb.box.w && pa.box.flip == pb.box.flip));
  // Other items and other epochs draw differently (over a few tries, some start must differ).
  bool differs = false;
  for (int64_t idx = 0; idx < 8 && !differs; ++idx) {
    SampleRequest c{Mode::kTrain, sample_generator(3, 2, idx), 0};
    differs = plan_clip(50, 60, 80, o, c, "v").frames != pa.frames;
  }
  REQUIRE(differs);
  // Flip frequency near flip_prob.
  int flips = 0;
  for (int64_t idx = 0; idx < 400; ++idx) {
    SampleRequest c{Mode::kTrain, sample_generator(0, 0, idx), 0};
    flips += plan_clip(50, 60, 80, o, c, "v").box.flip ? 1 : 0;
  }
  REQUIRE(flips > 150);
  REQUIRE(flips < 250);
  // Evaluation: view -> (clip, crop), no randomness.
  o.num_clips = 2;
  o.num_crops = 3;
  SampleRequest e{Mode::kEval, Generator(0), 4};  // clip 1, crop 1
  const ClipPlan pe = plan_clip(50, 60, 80, o, e, "v");
  REQUIRE(pe.frames.front() == eval_clip_start(50, o, 1));
  REQUIRE(pe.box.x0 == Approx(eval_crop(60, 80, o, 1).x0));
  REQUIRE(!pe.box.flip);
  SampleRequest bad{Mode::kEval, Generator(0), 6};
  REQUIRE_THROWS_WITH(plan_clip(50, 60, 80, o, bad, "v.mp4"), Catch::Contains("view 6"));
  // Too short under the error policy names the video.
  SampleRequest s{Mode::kTrain, Generator(0), 0};
  REQUIRE_THROWS_WITH(plan_clip(3, 60, 80, o, s, "short.mp4"),
                      Catch::Contains("short.mp4: too short"));
}

TEST_CASE("clip options: invalid values are rejected by name", "[data][augment][errors]") {
  ClipOptions o;
  o.validate();
  o.num_crops = 2;
  REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("num_crops"));
  o = ClipOptions{};
  o.area_min = 0;
  REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("area_min"));
  o = ClipOptions{};
  o.eval_short_side = 100;
  REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("eval_short_side"));
  o = ClipOptions{};
  o.flip_label_map = {1, 0, 5};
  REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("flip_label_map[2]"));
}
