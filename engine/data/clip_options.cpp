// ClipOptions validation and the names of the normalisation presets.
#include "engine/data/clip_options.h"

#include <algorithm>

#include "engine/error.h"

namespace asn::data {

const char* normalization_name(Normalization n) {
  switch (n) {
    case Normalization::kUnit:
      return "unit";
    case Normalization::kCentered:
      return "centered";
    case Normalization::kImageNet:
      return "imagenet";
    case Normalization::kKinetics:
      return "kinetics";
  }
  return "?";
}

Normalization normalization_from_name(const std::string& name) {
  for (Normalization n : {Normalization::kUnit, Normalization::kCentered, Normalization::kImageNet,
                          Normalization::kKinetics})
    if (name == normalization_name(n)) return n;
  ASN_THROW(ValueError, "unknown normalization '{}' (unit, centered, imagenet, kinetics)", name);
}

void ClipOptions::validate() const {
  ASN_CHECK(num_frames >= 1, "clip options: num_frames must be >= 1, got {}", num_frames);
  ASN_CHECK(stride >= 1, "clip options: stride must be >= 1, got {}", stride);
  ASN_CHECK(height >= 1 && width >= 1, "clip options: height and width must be >= 1, got {}x{}",
            height, width);
  ASN_CHECK(area_min > 0 && area_min <= area_max && area_max <= 1,
            "clip options: need 0 < area_min <= area_max <= 1, got [{}, {}]", area_min, area_max);
  ASN_CHECK(aspect_min > 0 && aspect_min <= aspect_max,
            "clip options: need 0 < aspect_min <= aspect_max, got [{}, {}]", aspect_min,
            aspect_max);
  ASN_CHECK(flip_prob >= 0 && flip_prob <= 1, "clip options: flip_prob must be in [0, 1], got {}",
            flip_prob);
  ASN_CHECK(eval_short_side == 0 || eval_short_side >= std::max(height, width),
            "clip options: eval_short_side {} is smaller than the {}x{} crop", eval_short_side,
            height, width);
  ASN_CHECK(num_clips >= 1, "clip options: num_clips must be >= 1, got {}", num_clips);
  ASN_CHECK(num_crops == 1 || num_crops == 3, "clip options: num_crops must be 1 or 3, got {}",
            num_crops);
  for (size_t i = 0; i < flip_label_map.size(); ++i) {
    ASN_CHECK(flip_label_map[i] >= 0 && flip_label_map[i] < static_cast<int>(flip_label_map.size()),
              "clip options: flip_label_map[{}] = {} is not a class in [0, {})", i,
              flip_label_map[i], flip_label_map.size());
  }
}

}  // namespace asn::data
