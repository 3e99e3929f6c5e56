// CPU threading: a small persistent thread pool behind parallel_for.
//
// parallel_for splits [begin, end) into one contiguous chunk per thread (static partition), so the
// work each thread does, and therefore every floating-point result, depends only on the thread
// count: CPU training is bitwise reproducible for a given thread count. Chunk 0 runs on the calling
// thread. Idle workers spin for a few microseconds and then sleep, so back-to-back small loops stay
// cheap while an oversubscribed machine (parallel test runs, data workers, other processes) does not
// lose its cores to spinning threads (OpenMP's default active waiting cost 20x there).
//
// OpenBLAS (its OpenMP build) keeps its own threads; set_num_threads sets both.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace asn {

// Threads used by parallel_for and by OpenBLAS (default: the machine's hardware threads, or the
// ASN_NUM_THREADS / OMP_NUM_THREADS environment variable).
int num_threads();
// Sets both the pool's and OpenBLAS's thread counts (n >= 1).
void set_num_threads(int n);
// True inside a parallel_for body (nested parallel_for calls then run serially).
bool in_parallel_region();

namespace detail {
// A non-owning reference to a callable void(int64_t chunk).
struct ChunkFn {
  void* object;
  void (*call)(void*, int64_t);
  void operator()(int64_t c) const { call(object, c); }
};
// Runs fn(0) .. fn(chunks - 1), chunk c on pool thread c (0 = the caller), and waits for all.
// The first exception thrown by a chunk is rethrown on the caller after every chunk finished.
void run_chunks(int64_t chunks, ChunkFn fn);
}  // namespace detail

// Calls f(chunk_begin, chunk_end) over a static partition of [begin, end). Runs serially when the
// range is no larger than `grain`, when one thread is configured, or inside another parallel_for.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int threads = num_threads();
  if (threads <= 1 || n <= grain || in_parallel_region()) {
    f(begin, end);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1) {
    f(begin, end);
    return;
  }
  auto body = [&](int64_t t) {
    const int64_t lo = begin + n * t / chunks;
    const int64_t hi = begin + n * (t + 1) / chunks;
    if (lo < hi) f(lo, hi);
  };
  using Body = decltype(body);
  detail::run_chunks(chunks, detail::ChunkFn{&body, [](void* o, int64_t c) { (*static_cast<Body*>(o))(c); }});
}

}  // namespace asn
