// Process-wide compute switches (see runtime_flags.h).
#include "engine/runtime_flags.h"

#include <atomic>

namespace asn {

namespace {
std::atomic<bool> g_deterministic{false};
std::atomic<bool> g_tf32{false};
}  // namespace

bool deterministic() { return g_deterministic.load(); }
void set_deterministic(bool on) { g_deterministic.store(on); }
bool allow_tf32() { return g_tf32.load(); }
void set_allow_tf32(bool on) { g_tf32.store(on); }

}  // namespace asn
