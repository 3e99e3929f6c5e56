// OpenBLAS-backed GEMM (see gemm.h).
#include "kernels/blas/gemm.h"

#include <cblas.h>

#include "engine/error.h"

namespace asn::kernels {

namespace {
void check_dims(int64_t M, int64_t N, int64_t K) {
  ASN_CHECK(M >= 0 && N >= 0 && K >= 0 && M < (int64_t{1} << 31) && N < (int64_t{1} << 31) &&
                K < (int64_t{1} << 31),
            "gemm: dimensions M={} N={} K={} out of range", M, N, K);
}
}  // namespace

template <>
void gemm_cpu<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  check_dims(M, N, K);
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

template <>
void gemm_cpu<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                      int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  check_dims(M, N, K);
  if (M == 0 || N == 0) return;
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

}  // namespace asn::kernels
