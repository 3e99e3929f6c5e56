// Synthetic moving-shape videos (see synthetic.h for the definition).
#include "engine/data/synthetic.h"

#include <algorithm>
#include <cmath>

#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
#include "engine/error.h"
#include "engine/philox.h"

namespace asn::data {

const char* split_name(Split s) { return s == Split::kTrain ? "train" : "val"; }

void SyntheticOptions::validate() const {
  ASN_CHECK(num_classes == 4 || num_classes == 8, "synthetic: num_classes must be 4 or 8, got {}",
            num_classes);
  ASN_CHECK(num_train >= 1 && num_val >= 1, "synthetic: num_train and num_val must be >= 1");
  ASN_CHECK(video_frames >= 1, "synthetic: video_frames must be >= 1");
  ASN_CHECK(height >= 8 && width >= 8, "synthetic: frames must be at least 8x8, got {}x{}", height,
            width);
  ASN_CHECK(slow_speed > 0 && slow_speed <= fast_speed && fast_speed < 0.5,
            "synthetic: need 0 < slow_speed <= fast_speed < 0.5, got {} and {}", slow_speed,
            fast_speed);
  ASN_CHECK(noise >= 0 && texture >= 0, "synthetic: noise and texture must be >= 0");
}

namespace {
constexpr uint64_t kTextureOffset = uint64_t{1} << 20;  // Philox offsets of the texture draw
constexpr int kGrid = 4;                                // texture grid size

// Distance between a and b on a circle of length n.
double wrapped(double a, double b, double n) {
  double d = std::fabs(a - b);
  d = std::fmod(d, n);
  return std::min(d, n - d);
}
}  // namespace

SyntheticVideoDataset::SyntheticVideoDataset(const SyntheticOptions& options, Split split,
                                             ClipOptions clip)
    : options_(options), split_(split), clip_(std::move(clip)) {
  options_.validate();
  // Flipping swaps left and right (directions 0 and 1), for both speeds.
  clip_.flip_label_map.resize(static_cast<size_t>(options_.num_classes));
  for (int c = 0; c < options_.num_classes; ++c) {
    const int dir = c % 4;
    const int flipped = dir == 0 ? 1 : dir == 1 ? 0 : dir;
    clip_.flip_label_map[static_cast<size_t>(c)] = c - dir + flipped;
  }
  clip_.validate();
  ASN_CHECK(
      clip_.out_of_range != video::OutOfRange::kError || clip_span(clip_) <= options_.video_frames,
      "synthetic: a clip of {} frames at stride {} needs {} frames but videos have {}",
      clip_.num_frames, clip_.stride, clip_span(clip_), options_.video_frames);
}

ClipOptions SyntheticVideoDataset::default_clip_options(const SyntheticOptions& options) {
  ClipOptions c;
  c.num_frames = 8;
  c.stride = 1;
  c.height = options.height;
  c.width = options.width;
  c.area_min = 0.64;
  c.area_max = 1.0;
  c.aspect_min = 0.75;
  c.aspect_max = 4.0 / 3.0;
  c.flip = true;
  c.normalization = Normalization::kUnit;
  return c;
}

int64_t SyntheticVideoDataset::size() const {
  return split_ == Split::kTrain ? options_.num_train : options_.num_val;
}

int64_t SyntheticVideoDataset::video_id(int64_t index) const {
  ASN_CHECK(index >= 0 && index < size(), "synthetic/{}: index {} out of range [0, {})",
            split_name(split_), index, size());
  return split_ == Split::kTrain ? index : options_.num_train + index;
}

int SyntheticVideoDataset::label(int64_t index) const {
  return static_cast<int>(video_id(index) % options_.num_classes);
}

std::string SyntheticVideoDataset::item_name(int64_t index) const {
  return std::string("synthetic/") + split_name(split_) + "/" + std::to_string(index);
}

SyntheticMotion SyntheticVideoDataset::motion(int64_t index) const {
  const int64_t vid = video_id(index);
  Generator g(
      hash_combine64(hash_combine64(options_.seed, 0x53594E5448ull), static_cast<uint64_t>(vid)),
      0);
  SyntheticMotion m;
  m.label = static_cast<int>(vid % options_.num_classes);
  m.direction = m.label % 4;
  const double size_along = m.direction < 2 ? options_.width : options_.height;
  double frac;
  if (options_.num_classes == 4) {
    frac = options_.slow_speed + (options_.fast_speed - options_.slow_speed) * g.uniform();
  } else {
    frac =
        (m.label / 4 == 0 ? options_.slow_speed : options_.fast_speed) * (0.9 + 0.2 * g.uniform());
  }
  m.speed_px = frac * size_along;
  m.shape = static_cast<int>(g.uniform_int(2));
  m.radius = (0.09 + 0.05 * g.uniform()) * std::min(options_.height, options_.width);
  for (double& c : m.color) c = 170 + 85 * g.uniform();
  m.x0 = options_.width * g.uniform();
  m.y0 = options_.height * g.uniform();
  return m;
}

Tensor SyntheticVideoDataset::render(int64_t index, const std::vector<int64_t>& frames,
                                     Tensor* object_ids) const {
  const SyntheticMotion m = motion(index);
  const int64_t vid = video_id(index);
  const int H = options_.height, W = options_.width;
  const int64_t n = static_cast<int64_t>(frames.size());
  // Background: the per-channel grey and the texture grid come from the video's own stream.
  const uint64_t key =
      hash_combine64(hash_combine64(options_.seed, 0x4247ull), static_cast<uint64_t>(vid));
  double grey[3];
  for (int c = 0; c < 3; ++c)
    grey[c] = 60 + 50 * philox_uniform_f64(key, 0, static_cast<uint64_t>(c));
  double grid[3][kGrid][kGrid];
  for (int c = 0; c < 3; ++c)
    for (int yy = 0; yy < kGrid; ++yy)
      for (int xx = 0; xx < kGrid; ++xx) {
        const uint64_t k = static_cast<uint64_t>((c * kGrid + yy) * kGrid + xx);
        grid[c][yy][xx] = 2.0 * philox_uniform_f64(key, kTextureOffset, k) - 1.0;
      }
  std::vector<float> bg(static_cast<size_t>(H) * W * 3);
  for (int y = 0; y < H; ++y) {
    const double gy = std::min(std::max((y + 0.5) * kGrid / H - 0.5, 0.0), kGrid - 1.0);
    const int y0 = std::min(static_cast<int>(gy), kGrid - 2);
    const double ay = gy - y0;
    for (int x = 0; x < W; ++x) {
      const double gx = std::min(std::max((x + 0.5) * kGrid / W - 0.5, 0.0), kGrid - 1.0);
      const int x0 = std::min(static_cast<int>(gx), kGrid - 2);
      const double ax = gx - x0;
      for (int c = 0; c < 3; ++c) {
        const auto& g = grid[c];
        const double v = (1 - ay) * ((1 - ax) * g[y0][x0] + ax * g[y0][x0 + 1]) +
                         ay * ((1 - ax) * g[y0 + 1][x0] + ax * g[y0 + 1][x0 + 1]);
        bg[(static_cast<size_t>(y) * W + x) * 3 + c] =
            static_cast<float>(grey[c] + options_.texture * 255.0 * v);
      }
    }
  }
  const double dx = m.direction == 0 ? m.speed_px : m.direction == 1 ? -m.speed_px : 0.0;
  const double dy = m.direction == 2 ? m.speed_px : m.direction == 3 ? -m.speed_px : 0.0;

  Tensor out = Tensor::empty(Shape{n, H, W, 3}, DType::u8);
  uint8_t* p = out.data<uint8_t>();
  uint8_t* ids = nullptr;
  if (object_ids) {
    *object_ids = Tensor::empty(Shape{n, H, W}, DType::u8);
    ids = object_ids->data<uint8_t>();
  }
  for (int64_t t = 0; t < n; ++t) {
    const int64_t f = frames[static_cast<size_t>(t)];
    ASN_CHECK(f >= 0 && f < options_.video_frames, "{}: frame {} out of range [0, {})",
              item_name(index), f, options_.video_frames);
    const double cx = m.x0 + dx * static_cast<double>(f);
    const double cy = m.y0 + dy * static_cast<double>(f);
    for (int y = 0; y < H; ++y) {
      const double ddy = wrapped(y + 0.5, cy, H);
      for (int x = 0; x < W; ++x) {
        const double ddx = wrapped(x + 0.5, cx, W);
        const double dist = m.shape == 0 ? std::sqrt(ddx * ddx + ddy * ddy) : std::max(ddx, ddy);
        const double alpha = std::min(1.0, std::max(0.0, m.radius + 0.5 - dist));
        const size_t pix = static_cast<size_t>(y) * W + x;
        // One Philox block per pixel and frame: four 32-bit uniforms, two Box-Muller pairs.
        double z[4] = {0, 0, 0, 0};
        if (options_.noise > 0) {
          const PhiloxResult bits =
              philox4x32_10(static_cast<uint32_t>(pix), static_cast<uint32_t>(f), 0x4E4F4953u, 0,
                            static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32));
          for (int q = 0; q < 2; ++q) {
            const double u1 = (bits.v[2 * q] + 1.0) / 4294967296.0;  // (0, 1]
            const double u2 = bits.v[2 * q + 1] / 4294967296.0;
            const double rad = std::sqrt(-2.0 * std::log(u1));
            z[2 * q] = rad * std::cos(2 * M_PI * u2);
            z[2 * q + 1] = rad * std::sin(2 * M_PI * u2);
          }
        }
        for (int c = 0; c < 3; ++c) {
          const double v =
              (1 - alpha) * bg[pix * 3 + c] + alpha * m.color[c] + options_.noise * 255.0 * z[c];
          p[(static_cast<size_t>(t) * H * W + pix) * 3 + c] =
              static_cast<uint8_t>(std::lround(std::min(255.0, std::max(0.0, v))));
        }
        if (ids) ids[static_cast<size_t>(t) * H * W + pix] = alpha >= 0.5 ? m.shape + 1 : 0;
      }
    }
  }
  return out;
}

Tensor SyntheticVideoDataset::render_all(int64_t index, Tensor* object_ids) const {
  std::vector<int64_t> frames(static_cast<size_t>(options_.video_frames));
  for (size_t i = 0; i < frames.size(); ++i) frames[i] = static_cast<int64_t>(i);
  return render(index, frames, object_ids);
}

Sample SyntheticVideoDataset::get(int64_t index, SampleRequest& request) const {
  const std::string name = item_name(index);
  const ClipPlan plan =
      plan_clip(options_.video_frames, options_.height, options_.width, clip_, request, name);
  Tensor ids;
  const Tensor frames = render(index, plan.frames, options_.objects ? &ids : nullptr);
  Sample s;
  s.clip = crop_resize_normalize(frames, plan.box, clip_.height, clip_.width, clip_.normalization);
  s.frames = plan.frames;
  s.flipped = plan.box.flip;
  const int l = label(index);
  s.label = s.flipped ? clip_.flip_label_map[static_cast<size_t>(l)] : l;
  if (options_.objects) {
    // ids already holds exactly the sampled frames, in clip order.
    std::vector<int64_t> mf(plan.frames.size());
    for (size_t t = 0; t < mf.size(); ++t) mf[t] = static_cast<int64_t>(t);
    s.objects = object_maps_one_hot(ids, mf, options_.height, options_.width, plan.box,
                                    clip_.height, clip_.width, kObjectClasses, name);
  }
  return s;
}

ItemInfo SyntheticVideoDataset::check(int64_t index) const {
  video_id(index);  // range check
  return ItemInfo{options_.video_frames, options_.height, options_.width};
}

}  // namespace asn::data
