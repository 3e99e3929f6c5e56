// ClipOptions: how a clip is cut from a video and turned into a network input.
//
// Temporal: T = num_frames frames at `stride` (the "8x8" of MMAction2/PySlowFast configs). Training
// draws a random start; evaluation takes num_clips evenly spaced clips (one clip: the middle one).
// Spatial: training takes a random resized crop (TF Model Garden defaults: area [0.49, 1] of the
// frame, aspect ratio w/h in [0.5, 2], log-uniform) resized to (height, width) and flips it
// horizontally with probability flip_prob; evaluation resizes the short side to eval_short_side and
// takes num_crops crops of (height, width): 1 = centre, 3 = left/centre/right along the long side.
// Pixel values are then normalised by one of the presets below. The output clip is f32
// (T, height, width, 3), channels-last RGB.
#pragma once

#include <string>
#include <vector>

#include "engine/video/video_reader.h"

namespace asn::data {

enum class Normalization {
  kUnit,      // x / 255, values in [0, 1] (the reference's input; TF Model Garden)
  kCentered,  // x / 127.5 - 1, values in [-1, 1] (TF's zero_centering_image)
  kImageNet,  // (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] (MMAction2, Charades)
  kKinetics,  // (x / 255 - 0.45) / 0.225 (PySlowFast, PyTorchVideo)
};
// "unit", "centered", "imagenet", "kinetics".
const char* normalization_name(Normalization n);
Normalization normalization_from_name(const std::string& name);

struct ClipOptions {
  // Temporal sampling.
  int num_frames = 8;  // T
  int stride = 1;      // frames between consecutive clip frames
  video::OutOfRange out_of_range = video::OutOfRange::kError;  // videos shorter than the clip
  // Output size.
  int height = 224;
  int width = 224;
  // Training: random resized crop and flip.
  bool random_crop = true;  // false: training uses the evaluation crop (centre)
  double area_min = 0.49;
  double area_max = 1.0;
  double aspect_min = 0.5;
  double aspect_max = 2.0;
  bool flip = true;
  double flip_prob = 0.5;
  // Class i becomes flip_label_map[i] when a training clip is flipped (empty: labels unchanged).
  // For classes whose meaning flips with the image, e.g. Something-Something's left/right pairs.
  std::vector<int> flip_label_map;
  // Evaluation: views = num_clips x num_crops.
  int eval_short_side = 0;  // resize the short side to this before cropping (0: max(height, width))
  int num_clips = 1;        // evenly spaced clips
  int num_crops = 1;        // 1 (centre) or 3 (left/centre/right along the long side)
  Normalization normalization = Normalization::kUnit;

  int num_views() const { return num_clips * num_crops; }
  // Throws ValueError naming the first bad option.
  void validate() const;
};

}  // namespace asn::data
