// Sample and SampleRequest: what a dataset returns for one item and what it is asked for.
//
// A Sample is one clip after sampling, augmentation and normalisation: f32 (T, H, W, 3), its label
// (a class index, or a multi-hot f32 (K,) vector for multi-label datasets) and, for AssembleNet++
// with object input, one-hot object maps f32 (T, H, W, num_object_classes) cut exactly like the
// RGB frames. All randomness of a training sample comes from the request's Generator, which the
// loader derives from (seed, epoch, index): the same position always gives the same sample.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace asn::data {

enum class Mode {
  kTrain,  // random clip start, random resized crop, flip
  kEval,   // deterministic views (clips x crops)
};
const char* mode_name(Mode m);

struct SampleRequest {
  Mode mode = Mode::kTrain;
  Generator rng;  // training randomness (see sample_generator)
  int view = 0;   // evaluation view in [0, num_clips * num_crops): clip = view / num_crops,
                  // crop = view % num_crops
};

// The generator for item `index` in `epoch` of a run seeded with `seed`: a hash of the three mixed
// into the Philox key, offset 0. Independent of worker count and of every other item.
Generator sample_generator(uint64_t seed, uint64_t epoch, int64_t index);
// A 64-bit hash of two values (SplitMix64 mixing), for deriving independent Philox keys.
uint64_t hash_combine64(uint64_t a, uint64_t b);

struct Sample {
  Tensor clip;     // f32 (T, H, W, 3)
  int label = -1;  // single-label datasets: the class (after flip_label_map)
  Tensor targets;  // multi-label datasets: f32 (K,) multi-hot; undefined otherwise
  Tensor objects;  // f32 (T, H, W, num_object_classes) one-hot; undefined without object maps
  std::vector<int64_t> frames;  // the video frame index of each clip frame
  bool flipped = false;         // the clip was flipped horizontally
};

}  // namespace asn::data
