// A conv3d test case (shapes, stride, dilation and the padding rule), shared by the CPU tests
// (tests/kernels/test_conv3d.cpp) and the CUDA-vs-CPU tests (tests/cuda/test_conv3d_cuda.cpp).
#pragma once

#include <array>

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

}  // namespace asn::test
