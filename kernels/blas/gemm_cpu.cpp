// OpenBLAS-backed GEMM (see gemm.h).
#include "kernels/blas/gemm.h"

#include <cblas.h>

#include <mutex>

#include "engine/error.h"

namespace asn::kernels {

namespace {
// OpenBLAS's OpenMP build is not safe to call from several non-OpenMP threads at once (its
// per-thread buffers are keyed by the OpenMP thread number, which is 0 on each of our pool
// threads): f64 convolutions call GEMM from parallel_for chunks, and on a 16-core machine their
// results were corrupted. One call at a time; each call still uses OpenBLAS's own threads.
std::mutex g_blas_mutex;

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
  std::lock_guard<std::mutex> lock(g_blas_mutex);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

template <>
void gemm_cpu<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                      int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  check_dims(M, N, K);
  if (M == 0 || N == 0) return;
  std::lock_guard<std::mutex> lock(g_blas_mutex);
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

}  // namespace asn::kernels
