// Entry point of the CPU test binary. Tests run with 2 threads unless ASN_TEST_THREADS says
// otherwise, so results do not depend on the machine's core count.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

#include "engine/log.h"
#include "engine/parallel.h"

int main(int argc, char* argv[]) {
  const char* t = std::getenv("ASN_TEST_THREADS");
  asn::set_num_threads(t ? std::atoi(t) : 2);
  asn::set_log_level("warn");
  return Catch::Session().run(argc, argv);
}
