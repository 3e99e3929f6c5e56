// Runs selected benchmarks: warm-up, timed repeats, median/min, GFLOP/s and GB/s, a readable table
// and one JSON line per benchmark:
//   {"name", "group", "impl": "asn", "device", "threads", "shape", "dtype", "median_ms", "min_ms",
//    "gflops", "gbps", "repeats", "warmup", "clock", "date", "host", "cpu"}
// GFLOP/s and GB/s are computed from the median time. The baseline scripts in
// benchmarks/baselines/ print the same format with their own "impl".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "benchmarks/src/bench.h"

namespace asn::bench {

struct RunOptions {
  std::string filter;     // ECMAScript regex searched in the name; empty selects everything
  int threads = 2;        // CPU threads (OpenMP and OpenBLAS)
  int repeats = 10;       // timed runs
  int warmup = 3;         // untimed runs first
  std::string json_path;  // append one JSON line per benchmark here when not empty
  // "wall" (steady clock) or "cpu" (CPU time of the whole process, all threads summed: steadier on
  // a shared, oversubscribed machine; comparable to wall time only at threads = 1).
  std::string clock = "wall";
};

struct BenchResult {
  std::string name, group, shape, dtype, device, clock;
  int threads = 0, repeats = 0, warmup = 0;
  double median_ms = 0, min_ms = 0, gflops = 0, gbps = 0;
  nlohmann::json extra = nlohmann::json::object();  // BenchCase::extra's fields
};

// Registered benchmarks whose name matches the filter, in registration order.
std::vector<const BenchEntry*> select_benchmarks(const std::string& filter);
// Builds the case, runs the warm-up and the timed repeats.
BenchResult run_benchmark(const BenchEntry& entry, const RunOptions& options);
// The JSON line of a result, with the date (UTC, ISO 8601), host name and CPU model.
nlohmann::ordered_json result_json(const BenchResult& r);
// Selects, runs and prints: a table row per benchmark as it finishes, then the JSON lines, on
// stdout; the JSON lines are also appended to options.json_path. Returns the results.
std::vector<BenchResult> run_benchmarks(const RunOptions& options);

}  // namespace asn::bench
