// The synthetic moving-shape dataset: deterministic per (seed, index), balanced classes, disjoint
// train/val videos, the shape's measured motion matches the label's direction and speed, a single
// frame does not reveal the class, flips swap left and right, and object maps mark the shape.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "engine/data/synthetic.h"
#include "engine/error.h"

using namespace asn;
using namespace asn::data;

namespace {

// Circular mean of the mask's coordinates along one axis of length n.
double circular_mean(const std::vector<double>& coords, double n) {
  double s = 0, c = 0;
  for (double v : coords) {
    s += std::sin(2 * M_PI * v / n);
    c += std::cos(2 * M_PI * v / n);
  }
  double a = std::atan2(s, c) * n / (2 * M_PI);
  return a < 0 ? a + n : a;
}

// Centroid (x, y) of the object mask of frame t in u8 (F, H, W) ids.
std::pair<double, double> centroid(const Tensor& ids, int64_t t) {
  const int64_t H = ids.dim(1), W = ids.dim(2);
  std::vector<double> xs, ys;
  const uint8_t* p = ids.data<uint8_t>() + t * H * W;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      if (p[y * W + x]) {
        xs.push_back(x + 0.5);
        ys.push_back(y + 0.5);
      }
  REQUIRE(!xs.empty());
  return {circular_mean(xs, static_cast<double>(W)), circular_mean(ys, static_cast<double>(H))};
}

double wrap_delta(double d, double n) {
  while (d > n / 2) d -= n;
  while (d < -n / 2) d += n;
  return d;
}

SyntheticOptions small_options(int classes) {
  SyntheticOptions o;
  o.num_classes = classes;
  o.num_train = 64;
  o.num_val = 32;
  o.video_frames = 12;
  o.height = 32;
  o.width = 32;
  o.seed = 7;
  o.objects = true;
  return o;
}

}  // namespace

TEST_CASE("synthetic: deterministic per (seed, index), disjoint splits, balanced classes",
          "[data][synthetic]") {
  const SyntheticOptions o = small_options(8);
  const SyntheticVideoDataset train(o, Split::kTrain,
                                    SyntheticVideoDataset::default_clip_options(o));
  const SyntheticVideoDataset train2(o, Split::kTrain,
                                     SyntheticVideoDataset::default_clip_options(o));
  const SyntheticVideoDataset val(o, Split::kVal, SyntheticVideoDataset::default_clip_options(o));
  REQUIRE(train.size() == 64);
  REQUIRE(val.size() == 32);
  REQUIRE(train.num_classes() == 8);
  REQUIRE(!train.is_multilabel());
  REQUIRE(train.item_name(3) == "synthetic/train/3");

  const Tensor a = train.render_all(5), b = train2.render_all(5);
  REQUIRE(a.shape() == Shape{12, 32, 32, 3});
  REQUIRE(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
  const Tensor c = train.render_all(6);
  REQUIRE(std::memcmp(a.raw_data(), c.raw_data(), a.nbytes()) != 0);
  // Another seed gives other videos.
  SyntheticOptions o2 = o;
  o2.seed = 8;
  const SyntheticVideoDataset other(o2, Split::kTrain,
                                    SyntheticVideoDataset::default_clip_options(o2));
  REQUIRE(std::memcmp(a.raw_data(), other.render_all(5).raw_data(), a.nbytes()) != 0);
  // Validation video i is not training video i.
  REQUIRE(val.video_id(0) == 64);
  REQUIRE(std::memcmp(val.render_all(0).raw_data(), train.render_all(0).raw_data(), a.nbytes()) !=
          0);
  // Rendering a subset of frames equals the same frames of the whole video.
  const Tensor sub = train.render(5, {3, 9});
  const size_t fb = 32 * 32 * 3;
  REQUIRE(std::memcmp(sub.data<uint8_t>(), a.data<uint8_t>() + 3 * fb, fb) == 0);
  REQUIRE(std::memcmp(sub.data<uint8_t>() + fb, a.data<uint8_t>() + 9 * fb, fb) == 0);

  std::vector<int> counts(8, 0);
  for (int64_t i = 0; i < train.size(); ++i) ++counts[static_cast<size_t>(train.label(i))];
  for (int c8 : counts) REQUIRE(c8 == 8);
}

TEST_CASE("synthetic: the shape moves in the label's direction at the label's speed",
          "[data][synthetic]") {
  for (int classes : {4, 8}) {
    const SyntheticOptions o = small_options(classes);
    const SyntheticVideoDataset ds(o, Split::kTrain,
                                   SyntheticVideoDataset::default_clip_options(o));
    for (int64_t i = 0; i < 24; ++i) {
      Tensor ids;
      ds.render_all(i, &ids);
      const SyntheticMotion m = ds.motion(i);
      REQUIRE(m.label == ds.label(i));
      // Mean displacement per frame over the video, from the rendered masks.
      double mx = 0, my = 0;
      for (int64_t t = 0; t + 1 < 12; ++t) {
        const auto [x0, y0] = centroid(ids, t);
        const auto [x1, y1] = centroid(ids, t + 1);
        mx += wrap_delta(x1 - x0, 32) / 11;
        my += wrap_delta(y1 - y0, 32) / 11;
      }
      INFO("classes " << classes << " item " << i << " label " << m.label << " moved (" << mx
                      << ", " << my << ") per frame");
      const int dir = ds.label(i) % 4;
      const double along = dir == 0 ? mx : dir == 1 ? -mx : dir == 2 ? my : -my;
      const double across = dir < 2 ? my : mx;
      REQUIRE(along == Approx(m.speed_px).margin(0.25));
      REQUIRE(std::fabs(across) < 0.25);
      const double frac = m.speed_px / 32;
      if (classes == 8) {
        const double nominal = ds.label(i) < 4 ? o.slow_speed : o.fast_speed;
        REQUIRE(frac >= nominal * 0.9 - 1e-9);
        REQUIRE(frac <= nominal * 1.1 + 1e-9);
      } else {
        REQUIRE(frac >= o.slow_speed - 1e-9);
        REQUIRE(frac <= o.fast_speed + 1e-9);
      }
    }
  }
}

TEST_CASE("synthetic: a single frame does not reveal the class", "[data][synthetic]") {
  // The shape's position in a frame is uniform whatever the class: per class, the mean position of
  // the shape in frame 5 over many videos sits near the frame centre, and its spread matches a
  // uniform distribution. (With starts chosen to keep the shape inside, "right" would sit left.)
  SyntheticOptions o = small_options(4);
  o.num_train = 800;
  o.objects = false;
  const SyntheticVideoDataset ds(o, Split::kTrain, SyntheticVideoDataset::default_clip_options(o));
  for (int cls = 0; cls < 4; ++cls) {
    double sx = 0, sy = 0;
    int n = 0;
    for (int64_t i = cls; i < ds.size(); i += 4) {
      const SyntheticMotion m = ds.motion(i);
      const int dir = m.direction;
      const double dx = dir == 0 ? m.speed_px : dir == 1 ? -m.speed_px : 0;
      const double dy = dir == 2 ? m.speed_px : dir == 3 ? -m.speed_px : 0;
      sx += std::fmod(std::fmod(m.x0 + 5 * dx, 32) + 32, 32);
      sy += std::fmod(std::fmod(m.y0 + 5 * dy, 32) + 32, 32);
      ++n;
    }
    // 200 uniform draws on [0, 32): mean 16, standard error 32 / sqrt(12 * 200) = 0.65.
    REQUIRE(sx / n == Approx(16).margin(2.6));
    REQUIRE(sy / n == Approx(16).margin(2.6));
  }
}

TEST_CASE("synthetic: samples are deterministic, flips swap left and right", "[data][synthetic]") {
  SyntheticOptions o = small_options(8);
  ClipOptions clip = SyntheticVideoDataset::default_clip_options(o);
  clip.num_frames = 6;
  clip.height = clip.width = 24;
  const SyntheticVideoDataset ds(o, Split::kTrain, clip);
  REQUIRE(ds.clip_options().flip_label_map == std::vector<int>{1, 0, 2, 3, 5, 4, 6, 7});
  REQUIRE(ds.num_object_classes() == 3);
  int flipped = 0, kept = 0, checked = 0;
  for (int64_t i = 0; i < 40; ++i) {
    SampleRequest r1{Mode::kTrain, sample_generator(1, 0, i), 0};
    SampleRequest r2{Mode::kTrain, sample_generator(1, 0, i), 0};
    const Sample s1 = ds.get(i, r1), s2 = ds.get(i, r2);
    REQUIRE(s1.clip.shape() == Shape{6, 24, 24, 3});
    REQUIRE(s1.objects.shape() == Shape{6, 24, 24, 3});
    REQUIRE(std::memcmp(s1.clip.raw_data(), s2.clip.raw_data(), s1.clip.nbytes()) == 0);
    REQUIRE(s1.label == s2.label);
    const int dir = ds.label(i) % 4;
    if (s1.flipped) {
      ++flipped;
      REQUIRE(s1.label == ds.clip_options().flip_label_map[static_cast<size_t>(ds.label(i))]);
    } else {
      ++kept;
      REQUIRE(s1.label == ds.label(i));
    }
    // The label of the sample describes the motion seen in the sample: the object maps' centroid
    // moves right for label direction 0 and left for direction 1, flipped or not.
    if (dir < 2) {
      // Per step, the shape's mean x, using only samples where the shape never touches the left or
      // right edge of the clip (no wrap-around, not cropped away); steps must go the label's way.
      const float* ob = s1.objects.data<float>();
      bool touches = false;
      auto mean_x = [&](int t, double* mx) {
        double sx = 0;
        int n = 0;
        for (int y = 0; y < 24; ++y)
          for (int x = 0; x < 24; ++x)
            if (ob[((t * 24 + y) * 24 + x) * 3] == 0) {  // not background
              sx += x;
              ++n;
              touches |= x == 0 || x == 23;
            }
        *mx = n ? sx / n : 0;
        return n > 0;
      };
      int right = 0, left = 0;
      for (int t = 0; t + 1 < 6; ++t) {
        double a = 0, b = 0;
        if (!mean_x(t, &a) || !mean_x(t + 1, &b)) continue;
        right += b - a > 0.3 ? 1 : 0;
        left += b - a < -0.3 ? 1 : 0;
      }
      INFO("item " << i << " sample label " << s1.label << " steps right " << right << " left "
                   << left);
      if (touches) continue;
      ++checked;
      if (s1.label % 4 == 0) REQUIRE((right >= 3 && left == 0));
      if (s1.label % 4 == 1) REQUIRE((left >= 3 && right == 0));
    }
  }
  REQUIRE(flipped > 5);
  REQUIRE(kept > 5);
  REQUIRE(checked >= 3);
}

TEST_CASE("synthetic: evaluation samples and option errors", "[data][synthetic][errors]") {
  SyntheticOptions o = small_options(4);
  const SyntheticVideoDataset ds(o, Split::kVal, SyntheticVideoDataset::default_clip_options(o));
  SampleRequest r{Mode::kEval, Generator(0), 0};
  const Sample s = ds.get(3, r);
  // Unit normalisation, full-frame centre crop of the middle clip: the clip equals the rendered
  // frames 2..9 divided by 255.
  REQUIRE(s.frames == std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor frames = ds.render(3, s.frames);
  const uint8_t* p = frames.data<uint8_t>();
  const float* q = s.clip.data<float>();
  for (int64_t k = 0; k < frames.numel(); ++k) REQUIRE(q[k] == Approx(p[k] / 255.0f).margin(1e-6));
  REQUIRE(s.label == ds.label(3));
  REQUIRE(ds.check(0).frames == 12);

  o.num_classes = 5;
  REQUIRE_THROWS_WITH(SyntheticVideoDataset(o, Split::kTrain, ClipOptions{}),
                      Catch::Contains("num_classes must be 4 or 8"));
  o = small_options(4);
  ClipOptions long_clip = SyntheticVideoDataset::default_clip_options(o);
  long_clip.num_frames = 8;
  long_clip.stride = 2;
  REQUIRE_THROWS_WITH(SyntheticVideoDataset(o, Split::kTrain, long_clip),
                      Catch::Contains("needs 15 frames but videos have 12"));
  REQUIRE_THROWS_WITH(ds.video_id(32), Catch::Contains("index 32 out of range"));
}
