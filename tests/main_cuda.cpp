// Entry point of the CUDA test binary. Without a usable GPU every test is skipped: the binary
// prints why and exits with 77, which CTest reports as "skipped" (SKIP_RETURN_CODE). Listing the
// tests (test discovery) works everywhere.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

#include "engine/device.h"
#include "engine/log.h"
#include "engine/parallel.h"

int main(int argc, char* argv[]) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0) listing = true;
  if (!listing && asn::cuda_device_count() == 0) {
    std::printf("SKIPPED: no CUDA device available (the CUDA tests need a GPU)\n");
    return 77;
  }
  asn::set_num_threads(2);
  asn::set_log_level("warn");
  return Catch::Session().run(argc, argv);
}
