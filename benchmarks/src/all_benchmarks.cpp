// The list of benchmark groups asn-bench knows. Add one line per new group (see bench.h).
#include "benchmarks/src/bench.h"

namespace asn::bench {

void register_all_benchmarks(const BenchEnv& env) {
  if (!registered_benchmarks().empty()) return;  // already registered
  register_conv3d_benchmarks(env);
  register_op_benchmarks(env);
  register_model_benchmarks(env);
  register_fusion_benchmarks(env);
}

}  // namespace asn::bench
