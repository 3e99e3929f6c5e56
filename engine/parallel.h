// CPU threading: one OpenMP thread pool shared with OpenBLAS (we link the OpenMP build of OpenBLAS).
//
// parallel_for splits [begin, end) into one contiguous chunk per thread (static schedule), so the
// work each thread does, and therefore every floating-point result, depends only on the thread
// count. That is what makes CPU training bitwise reproducible for a given thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace asn {

// Threads used by parallel_for and by OpenBLAS.
int num_threads();
// Sets both the OpenMP and the OpenBLAS thread counts (n >= 1).
void set_num_threads(int n);
// True inside a parallel region (nested parallel_for calls then run serially).
inline bool in_parallel_region() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

// Calls f(chunk_begin, chunk_end) over a static partition of [begin, end). Runs serially when the
// range is smaller than `grain` or when already inside a parallel region.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
#ifdef _OPENMP
  const int threads = num_threads();
  if (threads > 1 && n > grain && !in_parallel_region()) {
    const int64_t chunks = std::min<int64_t>(threads, (n + grain - 1) / std::max<int64_t>(grain, 1));
#pragma omp parallel num_threads(static_cast<int>(chunks))
    {
      const int64_t t = omp_get_thread_num();
      const int64_t lo = begin + n * t / chunks;
      const int64_t hi = begin + n * (t + 1) / chunks;
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  f(begin, end);
}

}  // namespace asn
