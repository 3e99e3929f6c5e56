// Learning-rate schedules: lr(step) for the update that follows `step` completed updates
// (pass optimizer.step_count()), step >= 0.
//
// Every schedule can start with the TF Model Garden linear warmup (official/modeling/optimization
// LinearWarmup): for step < warmup_steps,
//   lr = warmup_start_lr + step / warmup_steps * (decayed(warmup_steps) - warmup_start_lr)
// and decayed(step) afterwards, where decayed is the schedule below evaluated at the global step
// (as MG does with offset 0: warmup overrides the first steps, it does not shift the decay).
//
//   constant     decayed = base_lr
//   cosine       decayed = final_lr + (base_lr - final_lr) * 0.5 * (1 + cos(pi * min(step, T) / T))
//                with T = total_steps (Keras CosineDecay with alpha = final_lr / base_lr)
//   step         decayed = base_lr * gamma^(number of milestones <= step)
//   exponential  decayed = base_lr * rate^(step / decay_steps), the exponent floored when
//                staircase (Keras ExponentialDecay)
//
// JSON (strict: unknown keys and wrong types throw asn::ValueError naming the key):
//   common       "type": "constant" | "cosine" | "step" | "exponential", "base_lr": number,
//                "warmup_steps": integer (0), "warmup_start_lr": number (0)
//   cosine       "total_steps": integer, "final_lr": number (0)
//   step         "milestones": [integer, ...] (strictly increasing, >= 1), "gamma": number (0.1)
//   exponential  "decay_steps": integer, "decay_rate": number, "staircase": bool (false)
// e.g. the Kinetics-600 recipe {"type": "cosine", "base_lr": 1.6, "warmup_steps": 1785,
// "total_steps": 15708} and the UCF101 YAML {"type": "exponential", "base_lr": 0.008,
// "decay_steps": 1024, "decay_rate": 0.96, "staircase": true, "warmup_steps": 50}.
// to_json() writes every key (defaults included); make_lr_schedule(s.to_json()) rebuilds s.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace asn::ag {

struct LinearWarmup {
  int64_t steps = 0;      // 0: no warmup
  double start_lr = 0.0;  // lr at step 0
};

class LrSchedule {
 public:
  explicit LrSchedule(double base_lr, const LinearWarmup& warmup = {});
  virtual ~LrSchedule() = default;

  // Learning rate for step >= 0 (warmup, then decayed_lr).
  double lr(int64_t step) const;
  // The full configuration, every key written.
  virtual nlohmann::json to_json() const = 0;

  double base_lr() const { return base_lr_; }
  const LinearWarmup& warmup() const { return warmup_; }

 protected:
  // The schedule without warmup at a global step.
  virtual double decayed_lr(int64_t step) const = 0;
  // {"type": type, "base_lr", "warmup_steps", "warmup_start_lr"}: the common part of to_json().
  nlohmann::json common_json(const char* type) const;

 private:
  double base_lr_;
  LinearWarmup warmup_;
};

class ConstantLr : public LrSchedule {
 public:
  explicit ConstantLr(double base_lr, const LinearWarmup& warmup = {});
  nlohmann::json to_json() const override;

 protected:
  double decayed_lr(int64_t step) const override;
};

class CosineDecayLr : public LrSchedule {
 public:
  // total_steps >= 1 and >= warmup.steps; final_lr >= 0.
  CosineDecayLr(double base_lr, int64_t total_steps, double final_lr = 0.0,
                const LinearWarmup& warmup = {});
  nlohmann::json to_json() const override;
  int64_t total_steps() const { return total_steps_; }
  double final_lr() const { return final_lr_; }

 protected:
  double decayed_lr(int64_t step) const override;

 private:
  int64_t total_steps_;
  double final_lr_;
};

class StepDecayLr : public LrSchedule {
 public:
  // milestones strictly increasing, each >= 1; gamma > 0.
  StepDecayLr(double base_lr, std::vector<int64_t> milestones, double gamma = 0.1,
              const LinearWarmup& warmup = {});
  nlohmann::json to_json() const override;
  const std::vector<int64_t>& milestones() const { return milestones_; }
  double gamma() const { return gamma_; }

 protected:
  double decayed_lr(int64_t step) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

class ExponentialDecayLr : public LrSchedule {
 public:
  // decay_steps >= 1; decay_rate > 0.
  ExponentialDecayLr(double base_lr, int64_t decay_steps, double decay_rate, bool staircase = false,
                     const LinearWarmup& warmup = {});
  nlohmann::json to_json() const override;
  int64_t decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }

 protected:
  double decayed_lr(int64_t step) const override;

 private:
  int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

// Builds a schedule from its JSON configuration (see the top of this file).
std::unique_ptr<LrSchedule> make_lr_schedule(const nlohmann::json& config);

}  // namespace asn::ag
