// Logging through spdlog: one "asn" logger to the console. Apps set the level from the command line.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace asn {

// The engine's logger (created on first use, writes to stderr).
std::shared_ptr<spdlog::logger> logger();
// "trace", "debug", "info", "warn", "error", "off".
void set_log_level(const std::string& level);

}  // namespace asn

#define ASN_LOG_DEBUG(...) ::asn::logger()->debug(__VA_ARGS__)
#define ASN_LOG_INFO(...) ::asn::logger()->info(__VA_ARGS__)
#define ASN_LOG_WARN(...) ::asn::logger()->warn(__VA_ARGS__)
#define ASN_LOG_ERROR(...) ::asn::logger()->error(__VA_ARGS__)
