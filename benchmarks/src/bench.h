// The benchmark registry that asn-bench runs.
//
// A benchmark is a name, a group and a factory. The factory is called only when the benchmark is
// selected; it allocates its tensors and returns a BenchCase whose `run` does one timed iteration
// (the closure owns the tensors). The runner (runner.h) calls `run` for the warm-up and the timed
// repeats and derives GFLOP/s = flops / time and GB/s = bytes / time from the case's counts.
//
// Adding benchmarks (e.g. for BN or pooling):
//   1. write benchmarks/src/<group>_benchmarks.cpp with
//        void register_<group>_benchmarks(const BenchEnv& env) {
//          register_benchmark("bn/asn50_l1/fwd", "bn", [] {
//            BenchCase c;
//            c.shape = "x (1, 8, 56, 56, 256)";
//            c.flops = ...; c.bytes = ...;
//            auto x = std::make_shared<Tensor>(...);   // whatever the run needs
//            c.run = [x] { ... one iteration ... };
//            return c;
//          });
//        }
//   2. declare it below and call it from register_all_benchmarks (all_benchmarks.cpp).
// Shapes shared with the baseline scripts live as JSON in benchmarks/shapes/ (load_shapes), so the
// PyTorch baselines time exactly the same work. Names are "<group>/<case>/<pass>", pass being
// "fwd" or "fwdbwd", and are the key that matches asn rows with baseline rows.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace asn::bench {

struct BenchCase {
  std::string shape;          // human-readable description of the work, e.g. "x (1, 8, 56, 56, 64)"
  std::string dtype = "f32";  // element type of the work
  std::string device = "cpu";  // "cpu" or "cuda"
  double flops = 0;            // floating-point operations of one run (2 per multiply-accumulate)
  double bytes = 0;            // compulsory bytes read + written by one run
  std::function<void()> run;   // one iteration; must leave the case ready for the next
  std::function<void()>
      sync;  // optional: waits for asynchronous work (CUDA) before the clock stops
  // optional: extra fields for the JSON line, read after the timed runs (e.g. peak memory, clips/s
  // given the median time in milliseconds).
  std::function<nlohmann::json(double median_ms)> extra;
};

using BenchFactory = std::function<BenchCase()>;

struct BenchEntry {
  std::string name;
  std::string group;
  BenchFactory make;
};

// Where the benchmark groups find their inputs.
struct BenchEnv {
  std::string shapes_dir;  // benchmarks/shapes of the source tree (asn-bench --shapes)
};

// Adds a benchmark; throws ValueError on a duplicate name.
void register_benchmark(std::string name, std::string group, BenchFactory make);
// Every registered benchmark, in registration order.
const std::vector<BenchEntry>& registered_benchmarks();

// Reads <env.shapes_dir>/<file> as JSON; throws IoError naming the path when it cannot.
nlohmann::json load_shapes(const BenchEnv& env, const std::string& file);

// The groups. Each registers its benchmarks; call register_all_benchmarks once.
void register_conv3d_benchmarks(const BenchEnv& env);
void register_op_benchmarks(const BenchEnv& env);
void register_model_benchmarks(const BenchEnv& env);
void register_fusion_benchmarks(const BenchEnv& env);
void register_all_benchmarks(const BenchEnv& env);

}  // namespace asn::bench
