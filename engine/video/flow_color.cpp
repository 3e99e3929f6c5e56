// Middlebury flow colour coding: the 55-colour wheel and the per-pixel mapping (see flow_color.h).
#include "engine/video/flow_color.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/parallel.h"

namespace asn::video {

namespace {

// The six ramps in wheel order: length, first colour, the channel that moves and whether it rises
// (0 -> 255) or falls (255 -> 0). Step i of a ramp of length n moves it by floor(255 i / n).
struct Ramp {
  int length;
  Rgb8 start;
  int channel;
  bool rising;
};
// clang-format off
constexpr Ramp kRamps[6] = {
    {15, {255, 0, 0}, 1, true},     // red -> yellow: G rises
    {6, {255, 255, 0}, 0, false},   // yellow -> green: R falls
    {4, {0, 255, 0}, 2, true},      // green -> cyan: B rises
    {11, {0, 255, 255}, 1, false},  // cyan -> blue: G falls
    {13, {0, 0, 255}, 0, true},     // blue -> magenta: R rises
    {6, {255, 0, 255}, 2, false},   // magenta -> red: B falls
};
// clang-format on

// The 55 colours, built once from the ramps.
struct Wheel {
  Rgb8 colors[kFlowWheelSize];
  Wheel() {
    int k = 0;
    for (const Ramp& r : kRamps) {
      for (int i = 0; i < r.length; ++i, ++k) {
        const int step = 255 * i / r.length;
        colors[k] = r.start;
        colors[k][r.channel] = static_cast<uint8_t>(r.rising ? step : 255 - step);
      }
    }
  }
};

const Wheel& wheel() {
  static const Wheel w;
  return w;
}

template <class T>
double max_magnitude_typed(const T* p, int64_t vectors) {
  double m = 0;
  for (int64_t i = 0; i < vectors; ++i) {
    const double u = p[2 * i], v = p[2 * i + 1];
    if (!std::isfinite(u) || !std::isfinite(v)) continue;
    m = std::max(m, std::sqrt(u * u + v * v));
  }
  return m;
}

template <class T>
void color_typed(const T* flow, uint8_t* rgb, int64_t vectors, double max_flow) {
  parallel_for(0, vectors, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Rgb8 c = flow_to_rgb(flow[2 * i] / max_flow, flow[2 * i + 1] / max_flow);
      rgb[3 * i] = c[0];
      rgb[3 * i + 1] = c[1];
      rgb[3 * i + 2] = c[2];
    }
  });
}

}  // namespace

Rgb8 flow_wheel_color(int k) {
  ASN_CHECK(k >= 0 && k < kFlowWheelSize, "flow_wheel_color: index {} is not in [0, {})", k,
            kFlowWheelSize);
  return wheel().colors[k];
}

Rgb8 flow_to_rgb(double u, double v) {
  if (!std::isfinite(u) || !std::isfinite(v)) return {0, 0, 0};
  const double r = std::sqrt(u * u + v * v);
  const double a = std::atan2(-v, -u) / M_PI;  // [-1, 1]
  const double fk = (a + 1) / 2 * (kFlowWheelSize - 1);
  const int k0 = std::min(static_cast<int>(std::floor(fk)), kFlowWheelSize - 1);
  const int k1 = (k0 + 1) % kFlowWheelSize;
  const double f = fk - k0;
  const Rgb8& c0 = wheel().colors[k0];
  const Rgb8& c1 = wheel().colors[k1];
  Rgb8 out{};
  for (int ch = 0; ch < 3; ++ch) {
    double c = (1 - f) * c0[ch] + f * c1[ch];  // in [0, 255]
    c = r <= 1 ? 255 - r * (255 - c) : 0.75 * c;
    // floor(255 c') of the header, computed in byte units; the slack keeps exact values (255,
    // 229.5 -> 229) from dropping a step through rounding.
    out[ch] = static_cast<uint8_t>(std::clamp(std::floor(c + 1e-9), 0.0, 255.0));
  }
  return out;
}

double max_flow_magnitude(const Tensor& flow) {
  ASN_CHECK_TYPE(
      flow.device().is_cpu() && (flow.dtype() == DType::f32 || flow.dtype() == DType::f64),
      "max_flow_magnitude: needs an f32 or f64 CPU tensor, got {}", describe(flow));
  ASN_CHECK_SHAPE(flow.rank() >= 1 && flow.dim(flow.rank() - 1) == 2,
                  "max_flow_magnitude: needs a last axis of 2 (u, v), got {}", describe(flow));
  const int64_t vectors = flow.numel() / 2;
  return flow.dtype() == DType::f32 ? max_magnitude_typed(flow.data<float>(), vectors)
                                    : max_magnitude_typed(flow.data<double>(), vectors);
}

Tensor flow_to_color(const Tensor& flow, double max_flow) {
  ASN_CHECK_TYPE(
      flow.device().is_cpu() && (flow.dtype() == DType::f32 || flow.dtype() == DType::f64),
      "flow_to_color: needs an f32 or f64 CPU tensor, got {}", describe(flow));
  ASN_CHECK_SHAPE(flow.rank() == 4 && flow.dim(3) == 2,
                  "flow_to_color: needs flow (T, H, W, 2), got {}", describe(flow));
  ASN_CHECK(std::isfinite(max_flow), "flow_to_color: max_flow must be finite, got {}", max_flow);
  if (max_flow <= 0) max_flow = max_flow_magnitude(flow);
  if (max_flow <= 0) max_flow = 1;  // all-zero flow: every pixel is white whatever the normaliser
  Tensor rgb = Tensor::empty(Shape{flow.dim(0), flow.dim(1), flow.dim(2), 3}, DType::u8);
  const int64_t vectors = flow.numel() / 2;
  if (flow.dtype() == DType::f32) {
    color_typed(flow.data<float>(), rgb.data<uint8_t>(), vectors, max_flow);
  } else {
    color_typed(flow.data<double>(), rgb.data<uint8_t>(), vectors, max_flow);
  }
  return rgb;
}

}  // namespace asn::video
