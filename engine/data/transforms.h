// Pixel transforms on clips: crop + bilinear resize + flip + normalisation in one pass, and the
// matching nearest-neighbour transform of object-segmentation maps.
//
// Geometry (shared by both): output pixel (oy, ox) of an (out_h, out_w) output looks at the source
// point x = box.x0 + (ox' + 0.5) * box.w / out_w, y = box.y0 + (oy + 0.5) * box.h / out_h in
// continuous pixel coordinates (pixel k covers [k, k + 1)), where ox' = out_w - 1 - ox when the box
// is flipped and ox otherwise. Bilinear sampling reads the four pixels around (x - 0.5, y - 0.5),
// clamped at the borders (half-pixel centres, as tf.image.resize and cv2.resize; no anti-aliasing);
// a box of the output's size at whole-pixel offsets is therefore an exact crop. Object maps take
// the class of the map pixel under (x, y) scaled to the map's size (nearest).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/data/clip_options.h"
#include "engine/data/sampling.h"
#include "engine/tensor.h"

namespace asn::data {

// Per-channel (scale, shift): normalised = value * scale + shift, for values in [0, 255].
struct NormalizationCoeffs {
  float scale[3];
  float shift[3];
};
NormalizationCoeffs normalization_coeffs(Normalization n);

// frames: u8 (T, H, W, 3). Returns f32 (T, out_h, out_w, 3): crop `box`, bilinear resize, flip,
// normalise.
Tensor crop_resize_normalize(const Tensor& frames, const CropBox& box, int out_h, int out_w,
                             Normalization norm);

// maps: u8 (F, h, w) class ids < num_classes. map_frames[t] picks the map of clip frame t.
// (video_h, video_w) is the video's frame size, in which `box` is given. Returns one-hot f32
// (T, out_h, out_w, num_classes). Throws IoError naming `source` for an id >= num_classes.
Tensor object_maps_one_hot(const Tensor& maps, const std::vector<int64_t>& map_frames, int video_h,
                           int video_w, const CropBox& box, int out_h, int out_w, int num_classes,
                           const std::string& source);

}  // namespace asn::data
