// CPU dense layer: OpenBLAS GEMMs plus a bias broadcast / column sum (see dense.h).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/blas/gemm.h"
#include "kernels/dense/dense.h"

namespace asn::kernels {

namespace {

constexpr int64_t kRowBlock = 1024;  // rows per partial column sum of the bias gradient

}  // namespace

template <class T>
void dense_forward_cpu(const T* x, const T* w, const T* b, int64_t M, int64_t Cin, int64_t Cout,
                       T* y) {
  // Rows start as the bias (or zero) and the GEMM accumulates onto them (beta = 1): this also
  // covers Cin == 0, where the GEMM adds nothing.
  parallel_for(0, M, std::max<int64_t>(1, 4096 / std::max<int64_t>(Cout, 1)),
               [&](int64_t rb, int64_t re) {
                 for (int64_t m = rb; m < re; ++m) {
                   T* ym = y + m * Cout;
                   if (b) {
                     std::copy(b, b + Cout, ym);
                   } else {
                     std::fill(ym, ym + Cout, T(0));
                   }
                 }
               });
  if (Cin > 0) gemm_cpu<T>(false, true, M, Cout, Cin, T(1), x, Cin, w, Cin, T(1), y, Cout);
}

template <class T>
void dense_backward_cpu(const T* gy, const T* x, const T* w, int64_t M, int64_t Cin, int64_t Cout,
                        T* gx, T* gw, T* gb) {
  if (gx) {
    if (Cout > 0) {
      gemm_cpu<T>(false, false, M, Cin, Cout, T(1), gy, Cout, w, Cin, T(0), gx, Cin);
    } else {
      std::fill(gx, gx + M * Cin, T(0));
    }
  }
  if (gw) {
    if (M > 0) {
      gemm_cpu<T>(true, false, Cout, Cin, M, T(1), gy, Cout, x, Cin, T(0), gw, Cin);
    } else {
      std::fill(gw, gw + Cout * Cin, T(0));
    }
  }
  if (gb) {
    const int64_t blocks = std::max<int64_t>(1, (M + kRowBlock - 1) / kRowBlock);
    std::vector<double> partial(static_cast<size_t>(blocks * Cout), 0.0);
    parallel_for(0, blocks, 1, [&](int64_t bb, int64_t be) {
      for (int64_t blk = bb; blk < be; ++blk) {
        double* p = partial.data() + blk * Cout;
        const int64_t m1 = std::min(M, (blk + 1) * kRowBlock);
        for (int64_t m = blk * kRowBlock; m < m1; ++m) {
          const T* g = gy + m * Cout;
          for (int64_t c = 0; c < Cout; ++c) p[c] += static_cast<double>(g[c]);
        }
      }
    });
    for (int64_t c = 0; c < Cout; ++c) {
      double s = 0;
      for (int64_t blk = 0; blk < blocks; ++blk) s += partial[static_cast<size_t>(blk * Cout + c)];
      gb[c] = static_cast<T>(s);
    }
  }
}

template void dense_forward_cpu<float>(const float*, const float*, const float*, int64_t, int64_t,
                                       int64_t, float*);
template void dense_forward_cpu<double>(const double*, const double*, const double*, int64_t,
                                        int64_t, int64_t, double*);
template void dense_backward_cpu<float>(const float*, const float*, const float*, int64_t, int64_t,
                                        int64_t, float*, float*, float*);
template void dense_backward_cpu<double>(const double*, const double*, const double*, int64_t,
                                         int64_t, int64_t, double*, double*, double*);

}  // namespace asn::kernels
