// Sum and mean over any set of axes of a contiguous tensor (layout: reduce_plan.h).
//
//   y[o] = scale * sum over the reduced positions r of x[o, r]      (mean: scale = 1 / count)
//
// Accuracy and determinism: every sum accumulates in double. A long reduction is cut into blocks
// whose boundaries depend only on the shape (about 2^16 input elements each, never on the thread
// count); each block is summed in index order and the block sums are added in block order, so
// the result is bitwise identical for any number of threads.
// Saved for backward: nothing (the gradient does not depend on x).
// Backward broadcasts: gx[o, r] = scale * gy[o].
#pragma once

#include "kernels/reduce/reduce_plan.h"

namespace asn::kernels {

// x: the plan's input; y: plan.out_numel values.
template <class T>
void sum_forward_cpu(const T* x, const ReducePlan& plan, double scale, T* y);

// gy: plan.out_numel values; gx: the plan's input size, fully written.
template <class T>
void sum_backward_cpu(const T* gy, const ReducePlan& plan, double scale, T* gx);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)).
// Forward accumulates in double too: a warp per piece of at most 4096 elements of an output's
// reduced sequence (innermost run reduced) or a thread per (output value, piece of at most 64 runs)
// (innermost run kept); the piece sums go to a scratch buffer and are added in piece order by a
// second kernel. Pieces depend only on the shape, and every sum is a fixed tree, so the result is
// bitwise reproducible (no atomics); it differs from the CPU's only by double rounding.
template <class T>
void sum_forward_cuda(const T* x, const ReducePlan& plan, double scale, T* y, int device);
template <class T>
void sum_backward_cuda(const T* gy, const ReducePlan& plan, double scale, T* gx, int device);
#endif

}  // namespace asn::kernels
