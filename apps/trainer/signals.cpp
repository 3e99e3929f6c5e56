// Stop-signal handling (see signals.h). The handler only stores to a lock-free atomic.
#include "apps/trainer/signals.h"

#include <atomic>
#include <csignal>

namespace asn::train {

namespace {
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  if (g_signal.load() != 0) {
    std::signal(sig, SIG_DFL);  // second signal: let it kill the process
    std::raise(sig);
    return;
  }
  g_signal.store(sig);
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_signal.load() != 0; }
int stop_signal() { return g_signal.load(); }
void request_stop(int signal_number) { g_signal.store(signal_number); }
void clear_stop() { g_signal.store(0); }

}  // namespace asn::train
