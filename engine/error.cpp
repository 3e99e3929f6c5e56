// Formatting helper shared by the check macros.
#include "engine/error.h"

#include <cstring>

namespace asn::detail {

std::string with_location(const std::string& msg, const char* file, int line) {
  // Keep the path relative to the project root so messages are the same on every machine.
  const char* rel = file;
  for (const char* root : {"/engine/", "/kernels/", "/autograd/", "/layers/", "/graph/", "/apps/",
                           "/tests/", "/benchmarks/"}) {
    if (const char* p = std::strstr(file, root)) {
      rel = p + 1;
      break;
    }
  }
  return fmt::format("{} (at {}:{})", msg, rel, line);
}

}  // namespace asn::detail
