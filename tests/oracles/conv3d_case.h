// A conv3d test case (shapes, stride, dilation and the padding rule), shared by the CPU tests
// (tests/kernels/test_conv3d.cpp) and the CUDA-vs-CPU tests (tests/cuda/test_conv3d_cuda.cpp).
#pragma once

#include <array>
#include <vector>

#include "engine/shape.h"
#include "kernels/conv/conv3d.h"

namespace asn::test {

enum class Pad { Same, Fixed, Valid, Explicit };

struct ConvCase {
  const char* name;
  Shape x;  // (N, T, H, W, Cin)
  Shape w;  // (Cout, kT, kH, kW, Cin)
  kernels::Dims3 stride;
  kernels::Dims3 dilation;
  Pad pad;
  std::array<kernels::AxisPad, 3> pads;  // Explicit only

  kernels::Conv3dParams params() const {
    const kernels::Dims3 k{w[1], w[2], w[3]}, in{x[1], x[2], x[3]};
    switch (pad) {
      case Pad::Same:
        return kernels::Conv3dParams::same(k, stride, dilation, in);
      case Pad::Fixed:
        return kernels::Conv3dParams::fixed(k, stride, dilation, in);
      case Pad::Valid:
        return kernels::Conv3dParams::valid(stride, dilation);
      case Pad::Explicit:
        break;
    }
    kernels::Conv3dParams p = kernels::Conv3dParams::valid(stride, dilation);
    for (int a = 0; a < 3; ++a) p.pad[a] = pads[static_cast<size_t>(a)];
    return p;
  }
};

constexpr kernels::Dims3 k1{1, 1, 1};

// The conv3d table both test files run (the CPU against the nested-loop oracle, CUDA against the
// CPU): odd sizes, T = 1, pointwise (no im2col on the CPU, cuBLASLt on CUDA), the stem, even
// kernels, every padding rule, strides and dilations on each axis, padding wider than the kernel,
// and shapes large enough for several chunks and column tiles. Tests refer to entries by index:
// append new cases at the end.
inline const std::vector<ConvCase>& conv3d_table() {
  // clang-format off
  static const std::vector<ConvCase> cases = {
      {"odd sizes 3x3x3 SAME", {2, 3, 7, 5, 3}, {4, 3, 3, 3, 3}, k1, k1, Pad::Same, {}},
      {"T=1 1x3x3 SAME", {2, 1, 7, 5, 3}, {4, 1, 3, 3, 3}, k1, k1, Pad::Same, {}},
      {"T=1 3x3x3 SAME (temporal taps all but one in padding)", {1, 1, 5, 6, 2}, {3, 3, 3, 3, 2},
       k1, k1, Pad::Same, {}},
      {"temporal 3x1x1 SAME", {2, 5, 4, 3, 3}, {4, 3, 1, 1, 3}, k1, k1, Pad::Same, {}},
      {"pointwise 1x1x1", {2, 3, 7, 5, 3}, {4, 1, 1, 1, 3}, k1, k1, Pad::Valid, {}},
      {"pointwise 1x1x1 stride 2 on H/W (gather)", {2, 3, 7, 5, 3}, {4, 1, 1, 1, 3}, {1, 2, 2}, k1,
       Pad::Same, {}},
      {"pointwise 1x1x1 stride 2 on T/H/W, fixed", {2, 5, 6, 5, 3}, {4, 1, 1, 1, 3}, {2, 2, 2}, k1,
       Pad::Fixed, {}},
      {"pointwise 1x1x1 with explicit padding", {1, 2, 3, 4, 3}, {2, 1, 1, 1, 3}, k1, k1,
       Pad::Explicit, {{{1, 0}, {0, 2}, {1, 1}}}},
      {"stem 1x7x7 stride 2 fixed", {1, 2, 15, 13, 3}, {5, 1, 7, 7, 3}, {1, 2, 2}, k1, Pad::Fixed,
       {}},
      {"1x7x7 stride 1 SAME", {1, 2, 9, 8, 2}, {3, 1, 7, 7, 2}, k1, k1, Pad::Same, {}},
      {"even kernel 2x2x2 SAME (pad 0/1)", {2, 4, 6, 5, 3}, {4, 2, 2, 2, 3}, k1, k1, Pad::Same, {}},
      {"3x3x3 stride 2 on H/W, SAME asymmetric (pad 0/1)", {2, 3, 8, 8, 3}, {4, 3, 3, 3, 3},
       {1, 2, 2}, k1, Pad::Same, {}},
      {"3x3x3 stride 2 on T", {1, 7, 5, 5, 2}, {3, 3, 3, 3, 2}, {2, 1, 1}, k1, Pad::Same, {}},
      {"temporal 3x1x1 dilation 2", {2, 7, 5, 4, 3}, {4, 3, 1, 1, 3}, k1, {2, 1, 1}, Pad::Same, {}},
      {"3x3x3 temporal dilation 2", {1, 6, 5, 5, 2}, {3, 3, 3, 3, 2}, k1, {2, 1, 1}, Pad::Same, {}},
      {"1x3x3 spatial dilation 2", {1, 3, 9, 8, 2}, {3, 1, 3, 3, 2}, k1, {1, 2, 2}, Pad::Same, {}},
      {"1x3x3 stride 2 fixed (pad 1/1)", {2, 2, 8, 7, 3}, {4, 1, 3, 3, 3}, {1, 2, 2}, k1,
       Pad::Fixed, {}},
      {"explicit asymmetric padding 2/0", {2, 3, 6, 5, 3}, {4, 2, 3, 2, 3}, {1, 1, 2}, k1,
       Pad::Explicit, {{{2, 0}, {0, 2}, {1, 0}}}},
      {"VALID, strides and dilations on every axis", {1, 9, 10, 11, 2}, {3, 2, 3, 2, 2}, {2, 3, 1},
       {3, 2, 2}, Pad::Valid, {}},
      {"padding wider than the kernel (windows fully in the padding)", {1, 2, 3, 3, 2},
       {2, 1, 2, 3, 2}, k1, k1, Pad::Explicit, {{{0, 0}, {3, 0}, {4, 4}}}},
      {"several chunks and column tiles", {2, 4, 16, 16, 32}, {8, 3, 3, 3, 32}, k1, k1, Pad::Same,
       {}},
      {"several chunks, stride 2, dilation 2", {2, 5, 34, 30, 24}, {6, 3, 3, 3, 24}, {1, 2, 2},
       {2, 1, 1}, Pad::Same, {}},
  };
  // clang-format on
  return cases;
}

}  // namespace asn::test
