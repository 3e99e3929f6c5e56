// Clip sampling: which frames (temporal) and which part of the frame (spatial) make a clip.
//
// Temporal (span = (T - 1) * stride + 1 frames):
//   training    start uniform in [0, frames - span] (0 when the video is shorter than the span);
//   evaluation  clip c of C starts at floor((c + 0.5) * (frames - span + 1) / C): evenly spaced
//               windows, each centred in its segment (MMAction2's test-mode offsets); C = 1 gives
//               the middle clip.
// Spatial, as a CropBox in source pixels (x0, y0, w, h) plus a flip flag:
//   training    random resized crop: up to 10 tries of area ~ U[area_min, area_max] x H x W and
//               aspect w/h log-uniform in [aspect_min, aspect_max]; sizes rounded to whole pixels,
//               a try counts when the box fits; position uniform. No fit: the whole frame.
//               Flip with probability flip_prob.
//   evaluation  the frame scaled so its short side is S = eval_short_side (or max(height, width)
//               when 0), then a (height, width) crop: centre, or for 3 crops start/centre/end
//               along the long side (left/centre/right for landscape video), centred along the
//               short side. The box is that crop mapped back to source pixels.
// Draws from the Generator in a fixed order: start, crop tries, flip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/clip_options.h"
#include "engine/data/sample.h"
#include "engine/rng.h"

namespace asn::data {

struct CropBox {
  double x0 = 0, y0 = 0;  // top-left corner in source pixels
  double w = 0, h = 0;    // size in source pixels
  bool flip = false;      // mirror horizontally after cropping
};

// (T - 1) * stride + 1.
int64_t clip_span(const ClipOptions& o);
int64_t train_clip_start(int64_t frames, const ClipOptions& o, Generator& rng);
int64_t eval_clip_start(int64_t frames, const ClipOptions& o, int clip_index);

CropBox random_resized_crop(int src_h, int src_w, const ClipOptions& o, Generator& rng);
CropBox eval_crop(int src_h, int src_w, const ClipOptions& o, int crop_index);

// Everything random or view-dependent about one sample.
struct ClipPlan {
  std::vector<int64_t> frames;  // video frame indices, out_of_range policy applied
  CropBox box;
};
// The plan for a video of `frames` frames of size (src_h, src_w). Throws IoError naming `source`
// when the video is too short and the policy is kError.
ClipPlan plan_clip(int64_t frames, int src_h, int src_w, const ClipOptions& o,
                   SampleRequest& request, const std::string& source);

}  // namespace asn::data
