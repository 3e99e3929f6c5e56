// Flow colour coding: the 55-colour wheel's ramps, the documented colours of the four directions,
// white for zero flow, saturation growing with magnitude, the darkening past max_flow, black for
// non-finite flow, flow_to_color's normaliser, and argument errors. An independent transcription of
// Middlebury's computeColor (per-channel blend divided by 255, then (int)(255 col)) is the oracle
// over a grid of vectors.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/video/flow_color.h"

using namespace asn;
using namespace asn::video;

namespace {

// Middlebury's makecolorwheel, written out ramp by ramp as in the original C++ (RGB order).
std::vector<std::array<int, 3>> reference_wheel() {
  const int RY = 15, YG = 6, GC = 4, CB = 11, BM = 13, MR = 6;
  std::vector<std::array<int, 3>> w;
  for (int i = 0; i < RY; i++) w.push_back({255, 255 * i / RY, 0});
  for (int i = 0; i < YG; i++) w.push_back({255 - 255 * i / YG, 255, 0});
  for (int i = 0; i < GC; i++) w.push_back({0, 255, 255 * i / GC});
  for (int i = 0; i < CB; i++) w.push_back({0, 255 - 255 * i / CB, 255});
  for (int i = 0; i < BM; i++) w.push_back({255 * i / BM, 0, 255});
  for (int i = 0; i < MR; i++) w.push_back({255, 0, 255 - 255 * i / MR});
  return w;
}

// Middlebury's computeColor for an already normalised (fx, fy).
std::array<int, 3> reference_color(double fx, double fy) {
  static const auto wheel = reference_wheel();
  const int ncols = static_cast<int>(wheel.size());
  const double rad = std::sqrt(fx * fx + fy * fy);
  const double a = std::atan2(-fy, -fx) / M_PI;
  const double fk = (a + 1.0) / 2.0 * (ncols - 1);
  const int k0 = static_cast<int>(fk);
  const int k1 = (k0 + 1) % ncols;
  const double f = fk - k0;
  std::array<int, 3> pix{};
  for (int b = 0; b < 3; b++) {
    const double col0 = wheel[k0][b] / 255.0, col1 = wheel[k1][b] / 255.0;
    double col = (1 - f) * col0 + f * col1;
    if (rad <= 1)
      col = 1 - rad * (1 - col);
    else
      col *= .75;
    pix[b] = static_cast<int>(255.0 * col);
  }
  return pix;
}

Rgb8 rgb(int r, int g, int b) {
  return {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)};
}

}  // namespace

TEST_CASE("flow colour: the 55-colour wheel has the six documented ramps", "[flow][color]") {
  const auto ref = reference_wheel();
  REQUIRE(ref.size() == kFlowWheelSize);
  for (int k = 0; k < kFlowWheelSize; ++k) {
    const Rgb8 c = flow_wheel_color(k);
    INFO("colour " << k);
    REQUIRE(int(c[0]) == ref[k][0]);
    REQUIRE(int(c[1]) == ref[k][1]);
    REQUIRE(int(c[2]) == ref[k][2]);
    // Neighbours differ in exactly one channel (ramps move one channel at a time).
    const Rgb8 n = flow_wheel_color((k + 1) % kFlowWheelSize);
    REQUIRE((c[0] != n[0]) + (c[1] != n[1]) + (c[2] != n[2]) == 1);
  }
  // Where each ramp starts: red, yellow, green, cyan, blue, magenta.
  REQUIRE(flow_wheel_color(0) == rgb(255, 0, 0));
  REQUIRE(flow_wheel_color(15) == rgb(255, 255, 0));
  REQUIRE(flow_wheel_color(21) == rgb(0, 255, 0));
  REQUIRE(flow_wheel_color(25) == rgb(0, 255, 255));
  REQUIRE(flow_wheel_color(36) == rgb(0, 0, 255));
  REQUIRE(flow_wheel_color(49) == rgb(255, 0, 255));
  REQUIRE(flow_wheel_color(1) == rgb(255, 17, 0));
  REQUIRE(flow_wheel_color(54) == rgb(255, 0, 43));
  REQUIRE_THROWS_WITH(flow_wheel_color(55),
                      Catch::Contains("flow_wheel_color") && Catch::Contains("55"));
  REQUIRE_THROWS_AS(flow_wheel_color(-1), ValueError);
}

TEST_CASE("flow colour: directions, magnitude and special values", "[flow][color]") {
  // The documented full-length colours (image coordinates: +v is down).
  REQUIRE(flow_to_rgb(1, 0) == rgb(255, 0, 0));       // right: red
  REQUIRE(flow_to_rgb(0, 1) == rgb(255, 229, 0));     // down: yellow-orange
  REQUIRE(flow_to_rgb(-1, 0) == rgb(0, 209, 255));    // left: cyan-blue
  REQUIRE(flow_to_rgb(0, -1) == rgb(88, 0, 255));     // up: blue-violet
  REQUIRE(flow_to_rgb(1, -1e-9) == rgb(255, 0, 43));  // just above right: the wheel's last colour
  // Zero flow is white; shorter vectors are paler versions of the same hue.
  REQUIRE(flow_to_rgb(0, 0) == rgb(255, 255, 255));
  REQUIRE(flow_to_rgb(0.5, 0) == rgb(255, 127, 127));
  REQUIRE(flow_to_rgb(-0.25, 0) == rgb(191, 243, 255));  // 255 - 0.25 (255 - c)
  // Past max_flow (r > 1): the full colour darkened to 3/4.
  REQUIRE(flow_to_rgb(2, 0) == rgb(191, 0, 0));
  REQUIRE(flow_to_rgb(0, -3) == rgb(66, 0, 191));
  // Non-finite flow is black.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE(flow_to_rgb(nan, 0) == rgb(0, 0, 0));
  REQUIRE(flow_to_rgb(0, INFINITY) == rgb(0, 0, 0));
  // Saturation grows with magnitude along a fixed direction: the distance from white increases.
  int last = -1;
  for (double r = 0; r <= 1.0; r += 0.125) {
    const Rgb8 c = flow_to_rgb(r * 0.6, r * 0.8);
    const int dist = (255 - c[0]) + (255 - c[1]) + (255 - c[2]);
    REQUIRE(dist > last);
    last = dist;
  }
}

TEST_CASE("flow colour: matches Middlebury's computeColor over a grid", "[flow][color]") {
  int worst = 0;
  for (int i = -24; i <= 24; ++i)
    for (int j = -24; j <= 24; ++j) {
      const double u = i / 17.0, v = j / 19.0;  // magnitudes up to ~1.9: both branches
      const Rgb8 c = flow_to_rgb(u, v);
      const auto r = reference_color(u, v);
      for (int ch = 0; ch < 3; ++ch) worst = std::max(worst, std::abs(int(c[ch]) - r[ch]));
    }
  // The reference truncates 255 * (blend / 255), which can land one below an exact byte value.
  REQUIRE(worst <= 1);
}

TEST_CASE("flow colour: flow_to_color normalises by the largest magnitude or max_flow",
          "[flow][color]") {
  // (T=2, H=1, W=3, 2): vectors (2, 0), (1, 0), (0, 0) and (0, -2), (NaN, 0), (-1, 0).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor flow =
      Tensor::from_vector<float>(Shape{2, 1, 3, 2}, {2, 0, 1, 0, 0, 0, 0, -2, nan, 0, -1, 0});
  REQUIRE(max_flow_magnitude(flow) == 2.0);  // the NaN vector is ignored
  const Tensor c = flow_to_color(flow);
  REQUIRE(c.dtype() == DType::u8);
  REQUIRE(c.shape() == Shape{2, 1, 3, 3});
  const std::vector<uint8_t> got = c.to_vector<uint8_t>();
  const std::vector<Rgb8> want{flow_to_rgb(1, 0),  flow_to_rgb(0.5, 0), rgb(255, 255, 255),
                               flow_to_rgb(0, -1), rgb(0, 0, 0),        flow_to_rgb(-0.5, 0)};
  for (size_t p = 0; p < want.size(); ++p)
    for (int ch = 0; ch < 3; ++ch) REQUIRE(got[p * 3 + ch] == want[p][ch]);
  // An explicit normaliser; f64 input gives the same colours.
  const Tensor c4 = flow_to_color(flow.to(DType::f64), 4.0);
  REQUIRE(c4.to_vector<uint8_t>()[0] == flow_to_rgb(0.5, 0)[0]);
  REQUIRE(c4.to_vector<uint8_t>()[1] == flow_to_rgb(0.5, 0)[1]);
  // An all-zero flow is all white.
  const Tensor white = flow_to_color(Tensor::zeros(Shape{1, 2, 2, 2}));
  for (uint8_t b : white.to_vector<uint8_t>()) REQUIRE(b == 255);
}

TEST_CASE("flow colour: wrong tensors are rejected with the shape", "[flow][color][errors]") {
  REQUIRE_THROWS_WITH(flow_to_color(Tensor::zeros(Shape{2, 4, 4, 3})),
                      Catch::Contains("flow_to_color") && Catch::Contains("(2, 4, 4, 3)"));
  REQUIRE_THROWS_AS(flow_to_color(Tensor::zeros(Shape{4, 4, 2})), ShapeError);
  REQUIRE_THROWS_WITH(flow_to_color(Tensor::zeros(Shape{1, 4, 4, 2}, DType::u8)),
                      Catch::Contains("flow_to_color") && Catch::Contains("u8"));
  REQUIRE_THROWS_AS(flow_to_color(Tensor::zeros(Shape{1, 4, 4, 2}), NAN), ValueError);
  REQUIRE_THROWS_WITH(max_flow_magnitude(Tensor::zeros(Shape{3, 3})),
                      Catch::Contains("max_flow_magnitude") && Catch::Contains("(3, 3)"));
}
