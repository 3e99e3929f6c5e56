// The single-threaded GEMM that the CPU convolution runs on each tile (one call per thread per
// tile):
//
//   C (m, n) = op(A) (m, k) * B (k, n)          (accumulate: C += ...)
//
// row-major like kernels/blas/gemm.h: op(A) is A (m, k) with row stride lda, or, when trans_a, A
// stored (k, m) with row stride lda; B is (k, n) with row stride ldb; C is (m, n) with row stride
// ldc. No transposed B: the convolution lays its operands out so that B rows are contiguous.
//
// f32 with AVX-512 (the build's -march=native on AVX-512 machines): register-blocked micro-kernels
// of 6 x 64 and 12 x 32 outputs that keep the whole k loop in registers and read A and B in place
// (no packing; the tiles are sized to sit in cache). On the conv shapes of asn-bench this runs at
// about 100-115 GFLOP/s per Zen 4 core against 90-95 for OpenBLAS's sgemm. f64, and f32 without
// AVX-512, call OpenBLAS (gemm_cpu) instead. Either way the summation order of every output depends
// only on the shapes, so results are deterministic.
#pragma once

#include <cstdint>

namespace asn::kernels {

template <class T>
void conv_gemm(bool trans_a, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
               int64_t ldb, T* c, int64_t ldc, bool accumulate);

// True when conv_gemm<float> uses the AVX-512 micro-kernels (compiled in and not disabled).
bool conv_gemm_uses_avx512();

// Tests only: while an instance lives, conv_gemm<float> calls OpenBLAS as on machines without
// AVX-512, so both paths are tested on one machine. Not thread-safe; do not nest.
class ConvGemmForceBlas {
 public:
  ConvGemmForceBlas();
  ~ConvGemmForceBlas();
  ConvGemmForceBlas(const ConvGemmForceBlas&) = delete;
  ConvGemmForceBlas& operator=(const ConvGemmForceBlas&) = delete;

 private:
  bool previous_;
};

}  // namespace asn::kernels
