// Process-wide compute switches (see runtime_flags.h).
#include "engine/runtime_flags.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace asn {

bool env_switch(const char* name, bool default_on) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return default_on;
  const std::string s = v;
  return !(s == "0" || s == "off" || s == "false" || s == "no");
}


namespace {
std::atomic<bool> g_deterministic{false};
std::atomic<bool> g_tf32{false};
}  // namespace

bool deterministic() { return g_deterministic.load(); }
void set_deterministic(bool on) { g_deterministic.store(on); }
bool allow_tf32() { return g_tf32.load(); }
void set_allow_tf32(bool on) { g_tf32.store(on); }

}  // namespace asn
