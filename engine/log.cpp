// The engine's spdlog logger.
#include "engine/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "engine/error.h"

namespace asn {

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto existing = spdlog::get("asn");
    if (existing) return existing;
    auto lg = spdlog::stderr_color_mt("asn");
    lg->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    return lg;
  }();
  return l;
}

void set_log_level(const std::string& level) {
  auto lv = spdlog::level::from_str(level);
  ASN_CHECK(lv != spdlog::level::off || level == "off",
            "unknown log level '{}' (trace, debug, info, warn, error, off)", level);
  logger()->set_level(lv);
}

}  // namespace asn
