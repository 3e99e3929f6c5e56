// Argument checks shared by the differentiable functions. Every failure names the op and the
// offending tensors' dtype, shape and device, e.g.
//   "conv3d: input must have rank 5 (N, T, H, W, C), got f32 (2, 8, 8, 3) on cpu".
#pragma once

#include <string>

#include "autograd/variable.h"
#include "engine/tensor.h"

namespace asn::ag {

// f32 or f64.
void check_floating(const char* op, const char* what, const Tensor& t);
// Same dtype and device as the reference tensor.
void check_same_type(const char* op, const char* what, const Tensor& t, const char* ref_what,
                     const Tensor& ref);
void check_rank(const char* op, const char* what, const Tensor& t, int rank, const char* layout);
void check_shape(const char* op, const char* what, const Tensor& t, const Shape& expected);

// Throws DeviceError when `t` lives on CUDA and this build or op cannot run there.
[[noreturn]] void throw_no_cuda(const char* op);

}  // namespace asn::ag
