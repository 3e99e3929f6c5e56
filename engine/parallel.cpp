// The thread pool behind parallel_for (see parallel.h).
#include "engine/parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ASN_CPU_RELAX() _mm_pause()
#else
#define ASN_CPU_RELAX() ((void)0)
#endif

#include "engine/error.h"

extern "C" void openblas_set_num_threads(int);

namespace asn {

namespace {

thread_local bool t_in_region = false;

int default_threads() {
  for (const char* var : {"ASN_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n >= 1) return n;
    }
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

// Workers wait for a new generation of work; the caller waits for `remaining` to reach zero.
// Both spin for a short while before sleeping.
class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  int threads() const { return threads_.load(); }

  void resize(int n) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    threads_.store(n);
    add_workers(n - 1);
  }

  void run(int64_t chunks, detail::ChunkFn fn) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    add_workers(static_cast<int>(chunks - 1));
    error_ = nullptr;
    remaining_.store(chunks - 1, std::memory_order_relaxed);
    {
      // The job is published together with its generation: a worker snapshots all three under
      // the same lock, so it never pairs one generation with another's job.
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = fn;
      chunks_ = chunks;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    t_in_region = true;
    try {
      fn(0);
    } catch (...) {
      record_error();
    }
    t_in_region = false;
    // Wait for the workers: spin, then sleep.
    for (int i = 0; i < kSpins && remaining_.load(std::memory_order_acquire) > 0; ++i) ASN_CPU_RELAX();
    if (remaining_.load(std::memory_order_acquire) > 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return remaining_.load(std::memory_order_acquire) == 0; });
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr int kSpins = 2000;  // a few microseconds; measured: best alone and oversubscribed

  Pool() { resize(default_threads()); }

  // Starts workers until there are `count` (run_mutex_ held). Workers are only ever added; surplus
  // ones sleep. Each new worker starts from the current generation, read here and not by the new
  // thread itself: a thread that read it later could take a job it must run as already seen.
  void add_workers(int count) {
    while (static_cast<int>(workers_.size()) < count) {
      const int id = static_cast<int>(workers_.size()) + 1;
      const uint64_t start = generation_.load(std::memory_order_acquire);
      workers_.emplace_back([this, id, start] { worker_loop(id, start); });
      workers_.back().detach();
    }
  }

  void record_error() {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }

  void worker_loop(int id, uint64_t seen) {
    while (true) {
      // Wait for a new generation: spin, then sleep.
      uint64_t g = generation_.load(std::memory_order_acquire);
      for (int i = 0; i < kSpins && g == seen; ++i) {
        ASN_CPU_RELAX();
        g = generation_.load(std::memory_order_acquire);
      }
      detail::ChunkFn fn{nullptr, nullptr};
      int64_t chunks = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (g == seen) wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        seen = generation_.load(std::memory_order_acquire);
        fn = fn_;
        chunks = chunks_;
      }
      if (id >= chunks) continue;  // this region needs fewer threads
      t_in_region = true;
      try {
        fn(id);
      } catch (...) {
        record_error();
      }
      t_in_region = false;
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::atomic<int> threads_{1};
  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_, error_mutex_;
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> remaining_{0};
  detail::ChunkFn fn_{nullptr, nullptr};
  int64_t chunks_ = 0;
  std::exception_ptr error_;
};

}  // namespace

int num_threads() { return Pool::get().threads(); }

void set_num_threads(int n) {
  ASN_CHECK(n >= 1, "thread count must be at least 1, got {}", n);
  Pool::get().resize(n);
  openblas_set_num_threads(n);
}

bool in_parallel_region() { return t_in_region; }

namespace detail {
void run_chunks(int64_t chunks, ChunkFn fn) { Pool::get().run(chunks, fn); }
}  // namespace detail

}  // namespace asn
