// Optical-flow colour coding (Baker et al., "A Database and Evaluation Methodology for Optical
// Flow", the Middlebury benchmark's flowToColor): hue = direction, saturation = magnitude.
//
// The wheel has 55 colours made of six ramps between the primaries and secondaries, with lengths
// chosen so perceptually similar steps get similar space:
//   red -> yellow 15, yellow -> green 6, green -> cyan 4, cyan -> blue 11, blue -> magenta 13,
//   magenta -> red 6.
// Ramp k of length n goes from its first colour towards the next one in n steps; step i of it
// changes the moving channel by floor(255 i / n), so colour 0 is pure red (255, 0, 0), colour 15
// pure yellow, 21 green, 25 cyan, 36 blue, 49 magenta.
//
// A flow vector (u, v) in pixels, u along W (to the right) and v along H (downwards, image rows),
// is first divided by the normaliser max_flow. With (u', v') the normalised vector, r = |(u', v')|
// and a = atan2(-v', -u') / pi in [-1, 1], the wheel position is (a + 1) / 2 * 54: a linear blend
// between the two neighbouring colours (54 wraps to 0). Each channel c in [0, 1] of the blend is
// then desaturated towards white: c' = 1 - r (1 - c) when r <= 1, or darkened to 0.75 c when r > 1
// (vectors longer than max_flow). The byte is floor(255 c').
//
// Resulting directions at full length (image coordinates, y down): right = red (255, 0, 0),
// down = yellow-orange (255, 229, 0), left = cyan-blue (0, 209, 255), up = blue-violet
// (88, 0, 255). Right is the wheel's seam: atan2(-0, -u) = -pi gives colour 0, while a vector a
// hair above horizontal gets colour 54 (255, 0, 43). Zero flow is white, and a short vector is a
// pale version of its direction's colour. Non-finite flow is black.
#pragma once

#include <array>
#include <cstdint>

#include "engine/tensor.h"

namespace asn::video {

using Rgb8 = std::array<uint8_t, 3>;

constexpr int kFlowWheelSize = 55;

// Colour k of the wheel, k in [0, 55).
Rgb8 flow_wheel_color(int k);

// The colour of one flow vector (u, v) already divided by the normaliser (see the header comment).
Rgb8 flow_to_rgb(double u, double v);

// Largest |(u1, u2)| over every finite vector of `flow` (..., 2) (f32 or f64, CPU); 0 when there is
// none.
double max_flow_magnitude(const Tensor& flow);

// flow (T, H, W, 2) f32 or f64 on the CPU, channel 0 = u (along W), channel 1 = v (along H) ->
// u8 (T, H, W, 3) RGB. max_flow > 0 is the normaliser; max_flow <= 0 uses the tensor's own
// max_flow_magnitude (an all-zero flow is then all white).
Tensor flow_to_color(const Tensor& flow, double max_flow = 0);

}  // namespace asn::video
