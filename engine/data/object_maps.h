// Object-segmentation maps for AssembleNet++'s object input (stem -3).
//
// File format (one file per video, see docs/data.md): a safetensors file holding one tensor
// "classes", u8 (F, h, w): a class-index map per frame (F maps for the video's frames, usually at
// a lower resolution than the video; ids < num_classes, 0 usually "background"). The file sits
// next to the video with the extension replaced by ".objects.safetensors" (videos/a/b.mp4 ->
// videos/a/b.objects.safetensors), or at the same relative path under a separate object root.
// When F differs from the video's frame count, video frame f uses map floor(f * F / frames) (maps
// computed at a lower frame rate). Samples get one-hot f32 (T, H, W, num_classes) maps, cut with
// the same frames, crop and flip as the RGB clip (nearest neighbour, so they stay one-hot).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace asn::data {

struct ObjectMapOptions {
  int num_classes = 0;  // 0: the dataset has no object maps
  std::string root;     // folder mirroring the video tree; empty: next to the videos
  std::string suffix = ".objects.safetensors";
};

// Where the maps of `video_path` live. `video_root` is the dataset's video root (may be empty).
std::string object_map_path(const std::string& video_path, const std::string& video_root,
                            const ObjectMapOptions& options);

// Loads and validates a map file: u8 (F, h, w) with F, h, w >= 1 and every id < num_classes.
// Throws IoError naming the file.
Tensor load_object_maps(const std::string& path, int num_classes);

// Map index for each video frame index (see the header comment).
std::vector<int64_t> object_map_frames(const std::vector<int64_t>& video_frames,
                                       int64_t num_video_frames, int64_t num_maps);

// Writes maps (u8 (F, h, w)) in the format above (used by the synthetic-data export and tests).
void save_object_maps(const std::string& path, const Tensor& maps, int num_classes);

}  // namespace asn::data
