// Tile GEMM of the CPU convolution (see conv_gemm.h): AVX-512 micro-kernels for f32, OpenBLAS for
// everything else.
//
// Micro-kernel: an MR x (16*NV) block of C lives in MR*NV zmm registers for the whole k loop; each
// k step loads NV vectors of one B row (masked at the right edge) and broadcasts MR elements of
// one A column, then does MR*NV FMAs. 6 x 64 (24 accumulators) is the fastest shape on Zen 4 for
// the conv tiles; a panel at most 32 wide uses 12 x 32 instead so no lanes are wasted (Cout = 32).
#include "kernels/blas/gemm.h"
#include "kernels/conv/conv_gemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#define ASN_CONV_GEMM_AVX512 1
#else
#define ASN_CONV_GEMM_AVX512 0
#endif

namespace asn::kernels {

namespace {

bool g_force_blas = false;

#if ASN_CONV_GEMM_AVX512

// Lanes [0, n) of a 16-lane vector (n may be <= 0 or >= 16).
inline __mmask16 lanes(int64_t n) {
  if (n >= 16) return static_cast<__mmask16>(0xFFFF);
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1);
}

// C (MR, 16*NV lanes of `mask`) (+)= A (MR, k) * B (k, ...). A(i, kk) is a[i * a_row + kk * a_col]
// with a_row == 1 when TA (A stored transposed) and a_col == 1 otherwise.
template <int MR, int NV, bool TA>
inline void micro_kernel(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                         float* c, int64_t ldc, const __mmask16* mask, bool accumulate) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  __mmask16 mk[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mk[v] = mask[v];
  for (int64_t kk = 0; kk < k; ++kk) {
    __m512 bv[NV];
    const float* bk = b + kk * ldb;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mk[v], bk + 16 * v);
    const float* ak = TA ? a + kk * lda : a + kk;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(TA ? ak[i] : ak[i * lda]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 r = acc[i][v];
      if (accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk[v], ci + 16 * v));
      _mm512_mask_storeu_ps(ci + 16 * v, mk[v], r);
    }
  }
}

// The last rows (fewer than MR) of a panel: the micro-kernel instantiated for exactly `rows`.
template <int R, int NV, bool TA>
inline void tail_rows(int64_t rows, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, const __mmask16* mask, bool accumulate) {
  if constexpr (R > 0) {
    if (rows == R) {
      micro_kernel<R, NV, TA>(k, a, lda, b, ldb, c, ldc, mask, accumulate);
    } else {
      tail_rows<R - 1, NV, TA>(rows, k, a, lda, b, ldb, c, ldc, mask, accumulate);
    }
  }
}

// One panel of C columns [n0, n0 + 16*NV) over all m rows.
template <int MR, int NV, bool TA>
void panel(int64_t m, int64_t n_left, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  __mmask16 mask[NV];
  for (int v = 0; v < NV; ++v) mask[v] = lanes(n_left - 16 * v);
  const int64_t row_step = TA ? 1 : lda;  // A elements between consecutive rows
  int64_t i = 0;
  for (; i + MR <= m; i += MR) {
    micro_kernel<MR, NV, TA>(k, a + i * row_step, lda, b, ldb, c + i * ldc, ldc, mask, accumulate);
  }
  if (i < m) {
    tail_rows<MR - 1, NV, TA>(m - i, k, a + i * row_step, lda, b, ldb, c + i * ldc, ldc, mask,
                              accumulate);
  }
}

template <bool TA>
void gemm_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                 int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t n0 = 0; n0 < n; n0 += 64) {
    const int64_t left = n - n0;
    if (left <= 32) {
      panel<12, 2, TA>(m, left, k, a, lda, b + n0, ldb, c + n0, ldc, accumulate);
    } else {
      panel<6, 4, TA>(m, left, k, a, lda, b + n0, ldb, c + n0, ldc, accumulate);
    }
  }
}

#endif  // ASN_CONV_GEMM_AVX512

template <class T>
void gemm_blas(bool trans_a, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
               int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  gemm_cpu<T>(trans_a, false, m, n, k, T(1), a, lda, b, ldb, accumulate ? T(1) : T(0), c, ldc);
}

}  // namespace

bool conv_gemm_uses_avx512() { return ASN_CONV_GEMM_AVX512 && !g_force_blas; }

ConvGemmForceBlas::ConvGemmForceBlas() : previous_(g_force_blas) { g_force_blas = true; }
ConvGemmForceBlas::~ConvGemmForceBlas() { g_force_blas = previous_; }

template <>
void conv_gemm<float>(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
#if ASN_CONV_GEMM_AVX512
  if (!g_force_blas) {
    if (trans_a) {
      gemm_avx512<true>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    } else {
      gemm_avx512<false>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }
    return;
  }
#endif
  gemm_blas<float>(trans_a, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

template <>
void conv_gemm<double>(bool trans_a, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                       const double* b, int64_t ldb, double* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  gemm_blas<double>(trans_a, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

}  // namespace asn::kernels
