// The benchmark registry and the shape-file loader (see bench.h).
#include <fstream>

#include "benchmarks/src/bench.h"
#include "engine/error.h"

namespace asn::bench {

namespace {
std::vector<BenchEntry>& entries() {
  static std::vector<BenchEntry> e;
  return e;
}
}  // namespace

void register_benchmark(std::string name, std::string group, BenchFactory make) {
  for (const BenchEntry& e : entries()) {
    ASN_CHECK(e.name != name, "asn-bench: benchmark '{}' is registered twice", name);
  }
  entries().push_back(BenchEntry{std::move(name), std::move(group), std::move(make)});
}

const std::vector<BenchEntry>& registered_benchmarks() { return entries(); }

nlohmann::json load_shapes(const BenchEnv& env, const std::string& file) {
  const std::string path = env.shapes_dir + "/" + file;
  std::ifstream in(path);
  if (!in) ASN_THROW(IoError, "asn-bench: cannot read the shape file {} (see --shapes)", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    ASN_THROW(IoError, "asn-bench: {} is not valid JSON: {}", path, e.what());
  }
}

}  // namespace asn::bench
