// Exponential moving average of the trainable parameters, evaluated in place of the weights (TF
// Model Garden's optimization.ema over tf.train.ExponentialMovingAverage, timm's ModelEmaV2).
//
// After every optimizer step:
//   ema = d * ema + (1 - d) * w      over the flat trainable buffer (autograd/parameters.h)
//   d   = decay, or with dynamic decay min(decay, (1 + n) / (10 + n)), n = updates done before
// The average starts equal to the weights. Only trainable values are averaged; buffers (BN moving
// statistics) are used as they are, as in the Model Garden's default (trainable_weights_only).
// Evaluation swaps the averaged weights in for a scope (EmaSwap) and restores the weights bit for
// bit afterwards. The update runs on the parameters' device (two passes: scale, then axpy).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/parameters.h"

namespace asn::ag {

struct EmaOptions {
  double decay = 0.9999;       // in (0, 1)
  bool dynamic_decay = true;   // ramp up from (1 + n) / (10 + n) early in training
};

class Ema {
 public:
  // Copies the current trainable values as the initial average.
  Ema(Parameters& params, const EmaOptions& options);

  // Folds the current weights into the average (call after each optimizer step).
  void update();
  // The d the next update() will use.
  double next_decay() const;
  int64_t updates() const { return updates_; }
  const EmaOptions& options() const { return options_; }

  // (num_trainable,) on the parameters' device.
  const Tensor& values() const { return values_; }
  // One view per trainable parameter, named like it: (name, view of the average). The views share
  // the average's storage: writing into them restores a saved average (checkpoints).
  std::vector<std::pair<std::string, Tensor>> named_views() const;
  // Restores a saved average: `values` (num_trainable,), any device.
  void load(const Tensor& values, int64_t updates);
  // Sets the update count (after restoring the values through named_views()).
  void set_updates(int64_t updates);

 private:
  Parameters& params_;
  EmaOptions options_;
  Tensor values_;
  int64_t updates_ = 0;
};

// Puts the averaged weights into the parameters for its lifetime and restores the weights after
// (a no-op when ema is null).
class EmaSwap {
 public:
  EmaSwap(Parameters& params, const Ema* ema);
  ~EmaSwap();
  EmaSwap(const EmaSwap&) = delete;
  EmaSwap& operator=(const EmaSwap&) = delete;

 private:
  Parameters& params_;
  Tensor saved_;  // the weights, while the average is in place
};

}  // namespace asn::ag
