// Temporal and spatial sampling of clips (see sampling.h for the rules).
#include "engine/data/sampling.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace asn::data {

int64_t clip_span(const ClipOptions& o) {
  return static_cast<int64_t>(o.num_frames - 1) * o.stride + 1;
}

int64_t train_clip_start(int64_t frames, const ClipOptions& o, Generator& rng) {
  const int64_t slack = frames - clip_span(o);
  const uint64_t draw = rng.uniform_int(static_cast<uint64_t>(std::max<int64_t>(slack, 0) + 1));
  return static_cast<int64_t>(draw);
}

int64_t eval_clip_start(int64_t frames, const ClipOptions& o, int clip_index) {
  ASN_CHECK(clip_index >= 0 && clip_index < o.num_clips, "eval_clip_start: clip {} of {}",
            clip_index, o.num_clips);
  const int64_t slack = frames - clip_span(o);
  if (slack <= 0) return 0;
  return static_cast<int64_t>(
      std::floor((clip_index + 0.5) * static_cast<double>(slack + 1) / o.num_clips));
}

CropBox random_resized_crop(int src_h, int src_w, const ClipOptions& o, Generator& rng) {
  const double area = static_cast<double>(src_h) * src_w;
  const double log_lo = std::log(o.aspect_min), log_hi = std::log(o.aspect_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (o.area_min + (o.area_max - o.area_min) * rng.uniform());
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * rng.uniform());
    const int64_t w = std::max<int64_t>(1, std::llround(std::sqrt(target * aspect)));
    const int64_t h = std::max<int64_t>(1, std::llround(std::sqrt(target / aspect)));
    if (w > src_w || h > src_h) continue;
    const int64_t x0 = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(src_w - w + 1)));
    const int64_t y0 = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(src_h - h + 1)));
    return CropBox{static_cast<double>(x0), static_cast<double>(y0), static_cast<double>(w),
                   static_cast<double>(h), false};
  }
  return CropBox{0, 0, static_cast<double>(src_w), static_cast<double>(src_h), false};
}

CropBox eval_crop(int src_h, int src_w, const ClipOptions& o, int crop_index) {
  ASN_CHECK(crop_index >= 0 && crop_index < o.num_crops, "eval_crop: crop {} of {}", crop_index,
            o.num_crops);
  const int short_side = o.eval_short_side > 0 ? o.eval_short_side : std::max(o.height, o.width);
  const double scale = static_cast<double>(short_side) / std::min(src_h, src_w);
  // The resized frame, whole pixels (the short side is exactly short_side).
  const int64_t rh = src_h <= src_w ? short_side : std::llround(src_h * scale);
  const int64_t rw = src_w < src_h ? short_side : std::llround(src_w * scale);
  const int64_t ch = std::min<int64_t>(o.height, rh), cw = std::min<int64_t>(o.width, rw);
  int64_t y = (rh - ch) / 2, x = (rw - cw) / 2;
  if (o.num_crops == 3) {
    const int64_t end = crop_index == 0 ? 0 : crop_index == 1 ? 1 : 2;  // start, centre, end
    if (rw >= rh) {
      x = end == 0 ? 0 : end == 1 ? (rw - cw) / 2 : rw - cw;
    } else {
      y = end == 0 ? 0 : end == 1 ? (rh - ch) / 2 : rh - ch;
    }
  }
  const double sy = static_cast<double>(rh) / src_h, sx = static_cast<double>(rw) / src_w;
  return CropBox{x / sx, y / sy, cw / sx, ch / sy, false};
}

ClipPlan plan_clip(int64_t frames, int src_h, int src_w, const ClipOptions& o,
                   SampleRequest& request, const std::string& source) {
  ClipPlan plan;
  if (request.mode == Mode::kTrain) {
    const int64_t start = train_clip_start(frames, o, request.rng);
    plan.frames =
        video::clip_frame_indices(start, o.num_frames, o.stride, frames, o.out_of_range, source);
    plan.box = o.random_crop ? random_resized_crop(src_h, src_w, o, request.rng)
                             : eval_crop(src_h, src_w, o, 0);
    plan.box.flip = o.flip && request.rng.uniform() < o.flip_prob;
  } else {
    ASN_CHECK(request.view >= 0 && request.view < o.num_views(),
              "{}: evaluation view {} out of range [0, {})", source, request.view, o.num_views());
    const int clip = request.view / o.num_crops, crop = request.view % o.num_crops;
    const int64_t start = eval_clip_start(frames, o, clip);
    plan.frames =
        video::clip_frame_indices(start, o.num_frames, o.stride, frames, o.out_of_range, source);
    plan.box = eval_crop(src_h, src_w, o, crop);
  }
  return plan;
}

}  // namespace asn::data
