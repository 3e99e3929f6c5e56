// Benchmark runner: timing, statistics, table and JSON-line output (see runner.h).
#include "benchmarks/src/runner.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <regex>

#include "engine/error.h"
#include "engine/parallel.h"

namespace asn::bench {

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

// "model name" of /proc/cpuinfo, or "unknown".
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// Milliseconds on the chosen clock.
double now_ms(bool cpu_clock) {
  if (cpu_clock) {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  }
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void print_header() {
  fmt::print("{:<42} {:>3} {:>10} {:>10} {:>9} {:>8}  {}\n", "benchmark", "thr", "median ms",
             "min ms", "GFLOP/s", "GB/s", "shape");
}

void print_row(const BenchResult& r) {
  fmt::print("{:<42} {:>3} {:>10.3f} {:>10.3f} {:>9.1f} {:>8.2f}  {}\n", r.name, r.threads,
             r.median_ms, r.min_ms, r.gflops, r.gbps, r.shape);
}

}  // namespace

std::vector<const BenchEntry*> select_benchmarks(const std::string& filter) {
  std::regex re;
  try {
    re = std::regex(filter.empty() ? std::string(".*") : filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    ASN_THROW(ValueError, "asn-bench: invalid --filter regex '{}': {}", filter, e.what());
  }
  std::vector<const BenchEntry*> out;
  for (const BenchEntry& e : registered_benchmarks()) {
    if (std::regex_search(e.name, re)) out.push_back(&e);
  }
  return out;
}

BenchResult run_benchmark(const BenchEntry& entry, const RunOptions& o) {
  ASN_CHECK(o.repeats >= 1, "asn-bench: --repeats must be >= 1, got {}", o.repeats);
  ASN_CHECK(o.warmup >= 0, "asn-bench: --warmup must be >= 0, got {}", o.warmup);
  ASN_CHECK(o.clock == "wall" || o.clock == "cpu",
            "asn-bench: --clock must be wall or cpu, got '{}'", o.clock);
  const bool cpu_clock = o.clock == "cpu";
  set_num_threads(o.threads);
  BenchCase c = entry.make();
  ASN_CHECK(static_cast<bool>(c.run), "asn-bench: benchmark '{}' has no run function", entry.name);
  auto once = [&c]() {
    c.run();
    if (c.sync) c.sync();
  };
  for (int i = 0; i < o.warmup; ++i) once();
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(o.repeats));
  for (int i = 0; i < o.repeats; ++i) {
    const double t0 = now_ms(cpu_clock);
    once();
    ms.push_back(now_ms(cpu_clock) - t0);
  }
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  BenchResult r;
  r.name = entry.name;
  r.group = entry.group;
  r.shape = c.shape;
  r.dtype = c.dtype;
  r.device = c.device;
  r.threads = o.threads;
  r.repeats = o.repeats;
  r.warmup = o.warmup;
  r.clock = o.clock;
  r.median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  r.min_ms = ms.front();
  const double s = r.median_ms * 1e-3;
  r.gflops = s > 0 ? c.flops / s * 1e-9 : 0;
  r.gbps = s > 0 ? c.bytes / s * 1e-9 : 0;
  if (c.extra) r.extra = c.extra(r.median_ms);
  return r;
}

nlohmann::ordered_json result_json(const BenchResult& r) {
  static const std::string host = host_name();
  static const std::string cpu = cpu_model();
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["group"] = r.group;
  j["impl"] = "asn";
  j["device"] = r.device;
  j["threads"] = r.threads;
  j["shape"] = r.shape;
  j["dtype"] = r.dtype;
  j["median_ms"] = r.median_ms;
  j["min_ms"] = r.min_ms;
  j["gflops"] = r.gflops;
  j["gbps"] = r.gbps;
  j["repeats"] = r.repeats;
  j["warmup"] = r.warmup;
  j["clock"] = r.clock;
  j["date"] = utc_now();
  j["host"] = host;
  j["cpu"] = cpu;
  for (auto it = r.extra.begin(); it != r.extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

std::vector<BenchResult> run_benchmarks(const RunOptions& o) {
  const std::vector<const BenchEntry*> selected = select_benchmarks(o.filter);
  ASN_CHECK(!selected.empty(), "asn-bench: no benchmark matches --filter '{}' (see --list)",
            o.filter);
  std::ofstream json;
  if (!o.json_path.empty()) {
    json.open(o.json_path, std::ios::app);
    if (!json) ASN_THROW(IoError, "asn-bench: cannot open {} for appending", o.json_path);
  }
  print_header();
  std::vector<BenchResult> results;
  std::vector<std::string> lines;
  for (const BenchEntry* e : selected) {
    BenchResult r = run_benchmark(*e, o);
    print_row(r);
    std::fflush(stdout);
    lines.push_back(result_json(r).dump());
    if (json) json << lines.back() << "\n" << std::flush;
    results.push_back(std::move(r));
  }
  fmt::print("\n");
  for (const std::string& line : lines) fmt::print("{}\n", line);
  return results;
}

}  // namespace asn::bench
