// Whole-tensor arithmetic used by the engine's plumbing (gradient accumulation, optimizers,
// gradient clipping, tests): in-place add / scale / axpy and a few reductions. Works on f32 and f64
// tensors on the CPU, and on CUDA when built with it. Not differentiable: these act on Tensors,
// not Variables.
#pragma once

#include "engine/tensor.h"

namespace asn::kernels {

// dst += src (same shape, dtype and device).
void add_inplace(Tensor& dst, const Tensor& src);
// dst *= alpha.
void scale_inplace(Tensor& dst, double alpha);
// dst += alpha * src.
void axpy_inplace(Tensor& dst, double alpha, const Tensor& src);
// Sum of squares of all elements, accumulated in double (for gradient-norm clipping).
double sum_squares(const Tensor& t);
// Sum of all elements, accumulated in double.
double sum_all(const Tensor& t);
// True when every element is finite.
bool all_finite(const Tensor& t);

#ifdef ASN_WITH_CUDA
namespace cuda {
void add_inplace(Tensor& dst, const Tensor& src);
void scale_inplace(Tensor& dst, double alpha);
void axpy_inplace(Tensor& dst, double alpha, const Tensor& src);
double sum_squares(const Tensor& t);
double sum_all(const Tensor& t);
bool all_finite(const Tensor& t);
}  // namespace cuda
#endif

}  // namespace asn::kernels
