// Dense (fully connected) layer on the last axis: x (M, Cin) viewed from any (..., Cin),
// w (Cout, Cin), optional bias b (Cout,):
//   y (M, Cout) = x w^T + b
// w has the memory layout of a 1x1x1 conv kernel (Cout, 1, 1, 1, Cin), so a pointwise conv over
// (N*T*H*W, C) rows is the same computation. GEMMs go to OpenBLAS (kernels/blas/gemm.h).
// Saved for backward: x (for dw) and w (for dx).
// Backward:
//   dx (M, Cin)  = gy (M, Cout) w (Cout, Cin)
//   dw (Cout, Cin) = gy^T (Cout, M) x (M, Cin)
//   db (Cout,)   = column sums of gy, in double over fixed blocks of rows added in order
// Determinism: the GEMMs are as deterministic as OpenBLAS for a given thread count; db does not
// depend on the thread count.
#pragma once

#include <cstdint>

namespace asn::kernels {

// b may be nullptr (no bias). y is fully written (also when Cin == 0).
template <class T>
void dense_forward_cpu(const T* x, const T* w, const T* b, int64_t M, int64_t Cin, int64_t Cout,
                       T* y);

// Each of gx (M, Cin), gw (Cout, Cin), gb (Cout,) is computed only when non-null; x may be null
// when gw is, w when gx is.
template <class T>
void dense_backward_cpu(const T* gy, const T* x, const T* w, int64_t M, int64_t Cin, int64_t Cout,
                        T* gx, T* gw, T* gb);

#ifdef ASN_WITH_CUDA
// The same on CUDA device `device` (raw device pointers, on asn::cuda::stream(device)). The GEMMs
// go to cuBLASLt (row-major operands seen as their column-major transposes), f32 with
// CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 only while asn::allow_tf32() is on; f64
// with CUBLAS_COMPUTE_64F. The forward bias rides on the GEMM's BIAS epilogue. db is the column
// sum of gy by the deterministic double-accumulating sum kernel (kernels/reduce/sum.h). cuBLASLt
// is bitwise reproducible run to run on one GPU model (same algorithm from its heuristic, our own
// workspace on one stream).
template <class T>
void dense_forward_cuda(const T* x, const T* w, const T* b, int64_t M, int64_t Cin, int64_t Cout,
                        T* y, int device);
template <class T>
void dense_backward_cuda(const T* gy, const T* x, const T* w, int64_t M, int64_t Cin, int64_t Cout,
                         T* gx, T* gw, T* gb, int device);
#endif

}  // namespace asn::kernels
