// Row-major GEMM on the CPU through OpenBLAS:
//   C (M, N) = alpha * op(A) * op(B) + beta * C
// where op(A) is (M, K) (A stored (K, M) when trans_a) and op(B) is (K, N) (B stored (N, K) when
// trans_b). lda/ldb/ldc are row strides in elements. OpenBLAS uses the engine's thread count
// (asn::set_num_threads); called from inside a parallel region it runs on one thread.
#pragma once

#include <cstdint>

namespace asn::kernels {

template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace asn::kernels
