// conv3d: differentiable 3-D convolution (cross-correlation, no bias) on channels-last tensors.
//
//   x (N, T, H, W, Cin), w (Cout, kT, kH, kW, Cin) -> y (N, To, Ho, Wo, Cout)
//
// Padding, stride and dilation come from kernels::Conv3dParams (Conv3dParams::same / fixed / valid
// build the reference's padding rules). Saved for backward: x and w (dx needs w, dw needs x); only
// the gradients the tape asks for are computed. CPU (kernels/conv/conv3d_cpu.cpp) and CUDA
// (cuDNN, or cuBLASLt for pointwise convs: kernels/conv/conv3d_cudnn.cpp) on the input's device.
#pragma once

#include "autograd/variable.h"
#include "kernels/conv/conv3d.h"

namespace asn::ag {

Variable conv3d(const Variable& x, const Variable& w, const kernels::Conv3dParams& p);

}  // namespace asn::ag
