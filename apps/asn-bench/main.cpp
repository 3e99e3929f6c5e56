// asn-bench: times the engine's ops on shapes of the real networks (see docs/benchmarks.md).
//
//   asn-bench --list                       names of the registered benchmarks
//   asn-bench --filter 'conv3d/.*/fwd$'    run the matching ones (ECMAScript regex)
//             --threads 2 --repeats 10 --warmup 3 --json results.jsonl
//
// Prints a table and one JSON line per benchmark (also appended to --json). The registry and the
// runner live in benchmarks/src.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "benchmarks/src/bench.h"
#include "benchmarks/src/runner.h"
#include "engine/error.h"
#include "engine/log.h"

int main(int argc, char** argv) {
  CLI::App app{"asn-bench: time asn ops on the shapes of the real networks"};
  asn::bench::RunOptions opt;
  asn::bench::BenchEnv env;
  env.shapes_dir = ASN_BENCH_SHAPES_DIR;
  bool list = false;
  app.add_option("--filter", opt.filter, "run benchmarks whose name matches this regex");
  app.add_option("--threads", opt.threads, "CPU threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--repeats", opt.repeats, "timed runs per benchmark")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", opt.warmup, "untimed runs first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clock", opt.clock,
                 "wall, or cpu: process CPU time (steadier on a busy machine)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_option("--json", opt.json_path, "append one JSON line per benchmark to this file");
  app.add_option("--shapes", env.shapes_dir, "folder of the shape files")->capture_default_str();
  app.add_flag("--list", list, "print the benchmark names and exit");
  CLI11_PARSE(app, argc, argv);

  try {
    asn::set_log_level("warn");
    asn::bench::register_all_benchmarks(env);
    if (list) {
      for (const asn::bench::BenchEntry* e : asn::bench::select_benchmarks(opt.filter)) {
        fmt::print("{}\n", e->name);
      }
      return 0;
    }
    asn::bench::run_benchmarks(opt);
  } catch (const asn::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
