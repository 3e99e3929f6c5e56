// ScopedFlag: sets a (thread-local) bool for a scope and restores its previous value, also when the
// scope is left by an exception. The autograd mode switches (NoGradGuard, EnableGradGuard,
// RecomputeGuard, CheckpointGuard) are each one of these over their own flag.
#pragma once

namespace asn::ag {

class ScopedFlag {
 public:
  ScopedFlag(bool& flag, bool value) : flag_(flag), previous_(flag) { flag_ = value; }
  ~ScopedFlag() { flag_ = previous_; }
  ScopedFlag(const ScopedFlag&) = delete;
  ScopedFlag& operator=(const ScopedFlag&) = delete;

 private:
  bool& flag_;
  bool previous_;
};

}  // namespace asn::ag
