// SIGINT / SIGTERM handling for training: the first signal asks the loop to stop after the current
// step (it then writes a checkpoint and exits with kExitInterrupted); a second one restores the
// default action so a stuck process can still be killed.
#pragma once

namespace asn::train {

// Exit code of asn-train after an interruption that saved a checkpoint (EX_TEMPFAIL: "try again";
// resume with --resume).
constexpr int kExitInterrupted = 75;

// Installs the handlers (idempotent).
void install_stop_handlers();
// True once SIGINT or SIGTERM arrived; the number of the signal is in stop_signal().
bool stop_requested();
int stop_signal();
// For tests: request or clear a stop as if a signal had arrived.
void request_stop(int signal_number);
void clear_stop();

}  // namespace asn::train
