// The built-in synthetic video dataset: moving shapes whose class is the DIRECTION (and, with 8
// classes, the SPEED) of their motion, generated on the fly and deterministically from
// (seed, video id). A single frame carries no information about the class: the shape (disc or
// square), its size, its colour, the background and the shape's position in any frame are drawn
// independently of the class (the shape wraps around the frame edges, so its position is uniform
// in every frame). Only motion between frames tells the classes apart, which is what a video
// network has to learn.
//
// Video id v (train: v = index in [0, num_train); val: v = num_train + index, disjoint):
//   label      v % num_classes (classes exactly balanced); direction = label % 4 (0 right,
//              1 left, 2 down, 3 up); 8 classes: label / 4 = 0 slow, 1 fast
//   speed      pixels per frame = fraction x frame size along the motion; 4 classes: fraction
//              uniform in [slow_speed, fast_speed]; 8 classes: slow_speed or fast_speed, x
//              U[0.9, 1.1]
//   shape      disc or square, radius U[0.09, 0.14] x min(H, W), colour channels U[170, 255],
//              anti-aliased edge, starting centre uniform over the frame
//   background per-channel grey U[60, 110] plus a static smooth texture (a 4x4 grid of
//              U[-1, 1] values, bilinearly upsampled) x texture x 255
//   noise      fresh Gaussian noise per pixel and frame, std noise x 255; values rounded to u8
//   objects    (optional) object class map per frame: 0 background, 1 disc, 2 square, where the
//              shape covers at least half a pixel
// The generated video (video_frames frames) then goes through the same clip sampling and
// augmentation as file datasets (ClipOptions). Horizontal flips swap "left" and "right", so the
// dataset sets flip_label_map itself.
#pragma once

#include <cstdint>
#include <string>

#include "engine/data/dataset.h"

namespace asn::data {

enum class Split { kTrain, kVal };
const char* split_name(Split s);

struct SyntheticOptions {
  int num_classes = 4;       // 4 (directions) or 8 (directions x {slow, fast})
  int64_t num_train = 2048;  // videos in the training split
  int64_t num_val = 512;     // videos in the validation split
  int video_frames = 16;     // frames per generated video (>= the clip span)
  int height = 32;           // generated frame size
  int width = 32;
  double slow_speed = 0.035;  // fraction of the frame size per frame
  double fast_speed = 0.09;
  double noise = 0.03;    // per-pixel noise std, fraction of 255
  double texture = 0.12;  // background texture amplitude, fraction of 255
  bool objects = false;   // also produce object maps (3 classes)
  uint64_t seed = 0;

  void validate() const;
};

// The hidden parameters of one synthetic video (for tests and demos).
struct SyntheticMotion {
  int label = 0;
  int direction = 0;      // 0 right, 1 left, 2 down, 3 up
  double speed_px = 0;    // pixels per frame
  double x0 = 0, y0 = 0;  // centre at frame 0 (pixels, continuous coordinates)
  int shape = 0;          // 0 disc, 1 square
  double radius = 0;
  double color[3] = {0, 0, 0};
};

class SyntheticVideoDataset : public Dataset {
 public:
  static constexpr int kObjectClasses = 3;  // background, disc, square

  // `clip` is validated; its flip_label_map is replaced by the direction swap.
  SyntheticVideoDataset(const SyntheticOptions& options, Split split, ClipOptions clip);
  // T = 8, stride 1, output = the generated size, mild random resized crop (area [0.64, 1],
  // aspect [3/4, 4/3]), flip 0.5, "unit" normalisation.
  static ClipOptions default_clip_options(const SyntheticOptions& options);

  int64_t size() const override;
  int num_classes() const override { return options_.num_classes; }
  bool is_multilabel() const override { return false; }
  int num_object_classes() const override { return options_.objects ? kObjectClasses : 0; }
  const ClipOptions& clip_options() const override { return clip_; }
  std::string item_name(int64_t index) const override;
  std::vector<int> item_labels(int64_t index) const override { return {label(index)}; }
  Sample get(int64_t index, SampleRequest& request) const override;
  ItemInfo check(int64_t index) const override;

  int64_t video_id(int64_t index) const;
  int label(int64_t index) const;
  SyntheticMotion motion(int64_t index) const;
  // Frames `frames` of the video of item `index`: u8 (len, H, W, 3); with object_ids, also the
  // object class maps u8 (len, H, W).
  Tensor render(int64_t index, const std::vector<int64_t>& frames,
                Tensor* object_ids = nullptr) const;
  // The whole video.
  Tensor render_all(int64_t index, Tensor* object_ids = nullptr) const;

  const SyntheticOptions& options() const { return options_; }
  Split split() const { return split_; }

 private:
  SyntheticOptions options_;
  Split split_;
  ClipOptions clip_;
};

}  // namespace asn::data
