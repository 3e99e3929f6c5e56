// The thread pool behind parallel_for: static partition, every element once, nested calls run
// serially, exceptions reach the caller, changing thread counts and concurrent callers never hang.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/parallel.h"

using namespace asn;

TEST_CASE("parallel_for: every index exactly once, static chunks", "[engine][parallel]") {
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 7, 100, 10007}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<std::pair<int64_t, int64_t>> chunks;
      std::mutex m;
      parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
        {
          std::lock_guard<std::mutex> lock(m);
          chunks.push_back({b, e});
        }
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int h : hits) REQUIRE(h == 1);
      if (n >= threads) REQUIRE(chunks.size() == static_cast<size_t>(threads));
    }
  }
  set_num_threads(2);
}

TEST_CASE("parallel_for: nested calls run serially, exceptions propagate", "[engine][parallel]") {
  set_num_threads(3);
  std::atomic<int> inner_parallel{0};
  parallel_for(0, 30, 1, [&](int64_t, int64_t) {
    REQUIRE(in_parallel_region());
    parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
      if (b != 0 || e != 100) inner_parallel++;
    });
  });
  REQUIRE(inner_parallel == 0);
  REQUIRE_FALSE(in_parallel_region());
  REQUIRE_THROWS_WITH(parallel_for(0, 30, 1,
                                   [&](int64_t b, int64_t) {
                                     if (b > 0) throw std::runtime_error("chunk failed");
                                   }),
                      "chunk failed");
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  REQUIRE(sum == 1000);
  set_num_threads(2);
}

TEST_CASE("parallel_for: thousands of regions, thread-count changes, concurrent callers", "[engine][parallel]") {
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 2000; ++round) {
    if (round % 100 == 0) set_num_threads(1 + round / 100 % 4);
    parallel_for(0, 64, 1, [&](int64_t b, int64_t e) { total += e - b; });
  }
  REQUIRE(total == 2000 * 64);
  set_num_threads(2);
  std::atomic<int64_t> concurrent{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) parallel_for(0, 50, 1, [&](int64_t b, int64_t e) { concurrent += e - b; });
    });
  }
  for (auto& t : callers) t.join();
  REQUIRE(concurrent == 3 * 300 * 50);
}
