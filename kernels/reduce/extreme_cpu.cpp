// CPU min / max reductions and their tie-splitting gradient (see extreme.h).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/reduce/extreme.h"
#include "kernels/reduce/extreme_math.h"

namespace asn::kernels {

namespace {

constexpr int64_t kChunk = int64_t{1} << 16;  // elements per partial result of a whole reduction
constexpr int64_t kColumns = 256;             // inner positions per work item of an axis reduction

}  // namespace

template <class T>
void extreme_all_forward_cpu(const T* x, int64_t n, Extreme kind, T* y) {
  const int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  std::vector<T> partial(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t lo = c * kChunk, hi = std::min(n, lo + kChunk);
      T best = x[lo];
      for (int64_t i = lo + 1; i < hi; ++i)
        best = extreme_replaces<T>(x[i], best, kind) ? x[i] : best;
      partial[static_cast<size_t>(c)] = best;
    }
  });
  T best = partial[0];
  for (int64_t c = 1; c < chunks; ++c)
    if (extreme_replaces<T>(partial[static_cast<size_t>(c)], best, kind))
      best = partial[static_cast<size_t>(c)];
  y[0] = best;
}

template <class T>
void extreme_all_backward_cpu(const T* x, int64_t n, const T* y, const T* gy, T* gx) {
  const T m = y[0];
  const int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  std::vector<int64_t> counts(static_cast<size_t>(chunks), 0);
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t lo = c * kChunk, hi = std::min(n, lo + kChunk);
      int64_t k = 0;
      for (int64_t i = lo; i < hi; ++i) k += x[i] == m ? 1 : 0;
      counts[static_cast<size_t>(c)] = k;
    }
  });
  int64_t count = 0;
  for (int64_t k : counts) count += k;
  const T share = count > 0 ? static_cast<T>(static_cast<double>(gy[0]) / count) : T(0);
  parallel_for(0, n, kChunk, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) gx[i] = x[i] == m ? share : T(0);
  });
}

template <class T>
void extreme_axis_forward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, Extreme kind,
                              T* y) {
  // Work item: (o, a slice of at most kColumns inner positions), all len rows of it.
  const int64_t slices = std::max<int64_t>(1, (inner + kColumns - 1) / kColumns);
  const int64_t grain =
      std::max<int64_t>(1, kChunk / std::max<int64_t>(1, len * std::min(inner, kColumns)));
  parallel_for(0, outer * slices, grain, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / slices;
      const int64_t i0 = (item % slices) * kColumns, i1 = std::min(inner, i0 + kColumns);
      const T* xo = x + o * len * inner;
      T* yo = y + o * inner;
      for (int64_t i = i0; i < i1; ++i) yo[i] = xo[i];
      for (int64_t j = 1; j < len; ++j) {
        const T* xj = xo + j * inner;
        for (int64_t i = i0; i < i1; ++i)
          yo[i] = extreme_replaces<T>(xj[i], yo[i], kind) ? xj[i] : yo[i];
      }
    }
  });
}

template <class T>
void extreme_axis_backward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, const T* y,
                               const T* gy, T* gx) {
  const int64_t slices = std::max<int64_t>(1, (inner + kColumns - 1) / kColumns);
  const int64_t grain =
      std::max<int64_t>(1, kChunk / std::max<int64_t>(1, len * std::min(inner, kColumns)));
  parallel_for(0, outer * slices, grain, [&](int64_t b, int64_t e) {
    std::vector<int64_t> count(static_cast<size_t>(kColumns));
    std::vector<T> share(static_cast<size_t>(kColumns));
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / slices;
      const int64_t i0 = (item % slices) * kColumns, i1 = std::min(inner, i0 + kColumns);
      const T* xo = x + o * len * inner;
      const T* yo = y + o * inner;
      const T* go = gy + o * inner;
      T* gxo = gx + o * len * inner;
      std::fill(count.begin(), count.end(), 0);
      for (int64_t j = 0; j < len; ++j) {
        const T* xj = xo + j * inner;
        for (int64_t i = i0; i < i1; ++i)
          count[static_cast<size_t>(i - i0)] += xj[i] == yo[i] ? 1 : 0;
      }
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t k = count[static_cast<size_t>(i - i0)];
        share[static_cast<size_t>(i - i0)] =
            k > 0 ? static_cast<T>(static_cast<double>(go[i]) / k) : T(0);
      }
      for (int64_t j = 0; j < len; ++j) {
        const T* xj = xo + j * inner;
        T* gj = gxo + j * inner;
        for (int64_t i = i0; i < i1; ++i)
          gj[i] = xj[i] == yo[i] ? share[static_cast<size_t>(i - i0)] : T(0);
      }
    }
  });
}

template void extreme_all_forward_cpu<float>(const float*, int64_t, Extreme, float*);
template void extreme_all_forward_cpu<double>(const double*, int64_t, Extreme, double*);
template void extreme_all_backward_cpu<float>(const float*, int64_t, const float*, const float*,
                                              float*);
template void extreme_all_backward_cpu<double>(const double*, int64_t, const double*, const double*,
                                               double*);
template void extreme_axis_forward_cpu<float>(const float*, int64_t, int64_t, int64_t, Extreme,
                                              float*);
template void extreme_axis_forward_cpu<double>(const double*, int64_t, int64_t, int64_t, Extreme,
                                               double*);
template void extreme_axis_backward_cpu<float>(const float*, int64_t, int64_t, int64_t,
                                               const float*, const float*, float*);
template void extreme_axis_backward_cpu<double>(const double*, int64_t, int64_t, int64_t,
                                                const double*, const double*, double*);

}  // namespace asn::kernels
