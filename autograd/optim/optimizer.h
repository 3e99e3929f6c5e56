// Optimizer: updates the flat trainable buffer of an ag::Parameters from its flat gradient buffer.
//
// Every optimizer works on the whole buffer at once (one kernel per step). Weight decay applies
// only to elements [0, params.decay_count()) (conv and dense kernels); BN gamma/beta, biases and
// edge/attention logits come after it and are never decayed. State (momentum buffers, Adam
// moments) is held as flat tensors of the parameters' dtype and device, addressable by name so a
// checkpoint can save and restore it exactly, together with the step count.
//
// Typical loop:  params.zero_grad(); loss = ...; ag::backward(loss);
//                clip_grad_norm(params, 1.0); opt.step(schedule.lr(opt.step_count()));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/parameters.h"

namespace asn::ag {

class Optimizer {
 public:
  // `params` must be finalized and must outlive the optimizer. State is allocated here (zeros),
  // so create the optimizer after Parameters::to().
  explicit Optimizer(Parameters& params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Short lower-case name used in errors and configs ("sgd", "adamw").
  virtual const char* name() const = 0;

  // One update of params.values() from params.grads() with learning rate `lr` (finite, >= 0).
  // Increments step_count() first, so the first update is step 1 (Adam's bias correction).
  void step(double lr);

  // Updates applied so far (restored from checkpoints together with the state tensors).
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t n);

  // Every state tensor by name, as live handles (writing into them changes the state). Empty for
  // stateless optimizers (SGD without momentum). Names are stable across versions.
  virtual std::vector<std::pair<std::string, Tensor>> state_tensors() const = 0;
  // Copies saved tensors into the state: every state name must be present exactly once, with the
  // state's number of elements; no other names are accepted. Values are cast when the dtypes
  // differ (a restore into the same dtype is exact). Throws ValueError naming the tensor.
  void load_state_tensors(const std::vector<std::pair<std::string, Tensor>>& saved);

  Parameters& parameters() const { return params_; }

 protected:
  // The update itself, given a checked learning rate and the 1-based number of this update.
  virtual void apply(double lr, int64_t step) = 0;
  // A zero state tensor shaped like the flat values.
  Tensor zeros_like_values() const;
  // Throws TypeError when a state tensor no longer matches the parameters' dtype/device/size.
  void check_state(const char* what, const Tensor& state) const;

 private:
  Parameters& params_;
  int64_t step_count_ = 0;
};

}  // namespace asn::ag
