// Crop + bilinear resize + flip + normalise for RGB clips; nearest + one-hot for object maps.
#include "engine/data/transforms.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace asn::data {

NormalizationCoeffs normalization_coeffs(Normalization n) {
  NormalizationCoeffs c{};
  const float mean_in[3] = {0.485f, 0.456f, 0.406f}, std_in[3] = {0.229f, 0.224f, 0.225f};
  for (int ch = 0; ch < 3; ++ch) {
    switch (n) {
      case Normalization::kUnit:
        c.scale[ch] = 1.0f / 255.0f;
        c.shift[ch] = 0.0f;
        break;
      case Normalization::kCentered:
        c.scale[ch] = 1.0f / 127.5f;
        c.shift[ch] = -1.0f;
        break;
      case Normalization::kImageNet:
        c.scale[ch] = 1.0f / (255.0f * std_in[ch]);
        c.shift[ch] = -mean_in[ch] / std_in[ch];
        break;
      case Normalization::kKinetics:
        c.scale[ch] = 1.0f / (255.0f * 0.225f);
        c.shift[ch] = -0.45f / 0.225f;
        break;
    }
  }
  return c;
}

namespace {

// Source taps of one output coordinate: value = (1 - a) * src[i0] + a * src[i1].
struct Tap {
  int64_t i0, i1;
  float a;
};

std::vector<Tap> taps(double start, double extent, int out, int64_t src_size, bool flip) {
  std::vector<Tap> t(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    const int oo = flip ? out - 1 - o : o;
    double s = start + (oo + 0.5) * extent / out - 0.5;
    s = std::min(std::max(s, 0.0), static_cast<double>(src_size - 1));
    const int64_t i0 = static_cast<int64_t>(std::floor(s));
    const int64_t i1 = std::min(i0 + 1, src_size - 1);
    t[static_cast<size_t>(o)] = Tap{i0, i1, static_cast<float>(s - static_cast<double>(i0))};
  }
  return t;
}

}  // namespace

Tensor crop_resize_normalize(const Tensor& frames, const CropBox& box, int out_h, int out_w,
                             Normalization norm) {
  ASN_CHECK_TYPE(frames.dtype() == DType::u8 && frames.device().is_cpu(),
                 "crop_resize_normalize: needs u8 frames on the CPU, got {}", describe(frames));
  ASN_CHECK_SHAPE(frames.rank() == 4 && frames.dim(3) == 3,
                  "crop_resize_normalize: needs (T, H, W, 3) frames, got {}", describe(frames));
  ASN_CHECK(out_h >= 1 && out_w >= 1 && box.w > 0 && box.h > 0,
            "crop_resize_normalize: bad output size ({}, {}) or box size ({}, {})", out_h, out_w,
            box.h, box.w);
  const int64_t T = frames.dim(0), H = frames.dim(1), W = frames.dim(2);
  const std::vector<Tap> ty = taps(box.y0, box.h, out_h, H, false);
  const std::vector<Tap> tx = taps(box.x0, box.w, out_w, W, box.flip);
  const NormalizationCoeffs c = normalization_coeffs(norm);
  Tensor out = Tensor::empty(Shape{T, out_h, out_w, 3}, DType::f32);
  const uint8_t* src = frames.data<uint8_t>();
  float* dst = out.data<float>();
  for (int64_t t = 0; t < T; ++t) {
    const uint8_t* f = src + t * H * W * 3;
    for (int oy = 0; oy < out_h; ++oy) {
      const Tap& y = ty[static_cast<size_t>(oy)];
      const uint8_t* r0 = f + y.i0 * W * 3;
      const uint8_t* r1 = f + y.i1 * W * 3;
      float* o = dst + ((t * out_h + oy) * out_w) * 3;
      for (int ox = 0; ox < out_w; ++ox) {
        const Tap& x = tx[static_cast<size_t>(ox)];
        for (int ch = 0; ch < 3; ++ch) {
          const float top = (1 - x.a) * r0[x.i0 * 3 + ch] + x.a * r0[x.i1 * 3 + ch];
          const float bottom = (1 - x.a) * r1[x.i0 * 3 + ch] + x.a * r1[x.i1 * 3 + ch];
          const float v = (1 - y.a) * top + y.a * bottom;
          o[ox * 3 + ch] = v * c.scale[ch] + c.shift[ch];
        }
      }
    }
  }
  return out;
}

Tensor object_maps_one_hot(const Tensor& maps, const std::vector<int64_t>& map_frames, int video_h,
                           int video_w, const CropBox& box, int out_h, int out_w, int num_classes,
                           const std::string& source) {
  ASN_CHECK_TYPE(maps.dtype() == DType::u8 && maps.rank() == 3,
                 "{}: object maps must be u8 (F, h, w), got {}", source, describe(maps));
  ASN_CHECK(num_classes >= 1, "object_maps_one_hot: num_classes must be >= 1");
  const int64_t F = maps.dim(0), mh = maps.dim(1), mw = maps.dim(2);
  const int64_t T = static_cast<int64_t>(map_frames.size());
  // Map pixel under each output row/column (nearest, in the map's own resolution).
  std::vector<int64_t> my(static_cast<size_t>(out_h)), mx(static_cast<size_t>(out_w));
  for (int oy = 0; oy < out_h; ++oy) {
    const double y = box.y0 + (oy + 0.5) * box.h / out_h;
    my[static_cast<size_t>(oy)] =
        std::min<int64_t>(mh - 1, std::max<int64_t>(0, static_cast<int64_t>(y * mh / video_h)));
  }
  for (int ox = 0; ox < out_w; ++ox) {
    const int oo = box.flip ? out_w - 1 - ox : ox;
    const double x = box.x0 + (oo + 0.5) * box.w / out_w;
    mx[static_cast<size_t>(ox)] =
        std::min<int64_t>(mw - 1, std::max<int64_t>(0, static_cast<int64_t>(x * mw / video_w)));
  }
  Tensor out = Tensor::zeros(Shape{T, out_h, out_w, num_classes}, DType::f32);
  float* dst = out.data<float>();
  const uint8_t* src = maps.data<uint8_t>();
  for (int64_t t = 0; t < T; ++t) {
    const int64_t f = map_frames[static_cast<size_t>(t)];
    ASN_CHECK(f >= 0 && f < F, "{}: object map frame {} out of range [0, {})", source, f, F);
    const uint8_t* m = src + f * mh * mw;
    for (int oy = 0; oy < out_h; ++oy)
      for (int ox = 0; ox < out_w; ++ox) {
        const int id = m[my[static_cast<size_t>(oy)] * mw + mx[static_cast<size_t>(ox)]];
        if (id >= num_classes) {
          ASN_THROW(IoError, "{}: object class id {} at map frame {} is not below num_classes {}",
                    source, id, f, num_classes);
        }
        dst[((t * out_h + oy) * out_w + ox) * num_classes + id] = 1.0f;
      }
  }
  return out;
}

}  // namespace asn::data
