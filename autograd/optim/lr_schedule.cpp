// Learning-rate schedules and their strict JSON configuration (autograd/optim/lr_schedule.h).
#include "autograd/optim/lr_schedule.h"

#include <cmath>

#include "autograd/optim/json_fields.h"
#include "engine/error.h"

namespace asn::ag {

namespace {

constexpr double kPi = 3.14159265358979323846;

void check_lr(const char* what, double v) {
  ASN_CHECK(std::isfinite(v) && v >= 0, "lr_schedule: {} must be finite and >= 0, got {}", what, v);
}

}  // namespace

// ---- common part: warmup ----------------------------------------------------------------------

LrSchedule::LrSchedule(double base_lr, const LinearWarmup& warmup)
    : base_lr_(base_lr), warmup_(warmup) {
  check_lr("base_lr", base_lr);
  check_lr("warmup_start_lr", warmup.start_lr);
  ASN_CHECK(warmup.steps >= 0, "lr_schedule: warmup_steps must be >= 0, got {}", warmup.steps);
}

double LrSchedule::lr(int64_t step) const {
  ASN_CHECK(step >= 0, "lr_schedule: step must be >= 0, got {}", step);
  if (step < warmup_.steps) {
    const double target = decayed_lr(warmup_.steps);
    const double frac = static_cast<double>(step) / static_cast<double>(warmup_.steps);
    return warmup_.start_lr + frac * (target - warmup_.start_lr);
  }
  return decayed_lr(step);
}

nlohmann::json LrSchedule::common_json(const char* type) const {
  nlohmann::json j;
  j["type"] = type;
  j["base_lr"] = base_lr_;
  j["warmup_steps"] = warmup_.steps;
  j["warmup_start_lr"] = warmup_.start_lr;
  return j;
}

// ---- constant ---------------------------------------------------------------------------------

ConstantLr::ConstantLr(double base_lr, const LinearWarmup& warmup) : LrSchedule(base_lr, warmup) {}

double ConstantLr::decayed_lr(int64_t) const { return base_lr(); }

nlohmann::json ConstantLr::to_json() const { return common_json("constant"); }

// ---- cosine -----------------------------------------------------------------------------------

CosineDecayLr::CosineDecayLr(double base_lr, int64_t total_steps, double final_lr,
                             const LinearWarmup& warmup)
    : LrSchedule(base_lr, warmup), total_steps_(total_steps), final_lr_(final_lr) {
  ASN_CHECK(total_steps >= 1, "lr_schedule: total_steps must be >= 1, got {}", total_steps);
  ASN_CHECK(warmup.steps <= total_steps,
            "lr_schedule: warmup_steps ({}) must not exceed total_steps ({})", warmup.steps,
            total_steps);
  check_lr("final_lr", final_lr);
}

double CosineDecayLr::decayed_lr(int64_t step) const {
  const double s = static_cast<double>(std::min(step, total_steps_));
  const double c = 0.5 * (1.0 + std::cos(kPi * s / static_cast<double>(total_steps_)));
  return final_lr_ + (base_lr() - final_lr_) * c;
}

nlohmann::json CosineDecayLr::to_json() const {
  nlohmann::json j = common_json("cosine");
  j["total_steps"] = total_steps_;
  j["final_lr"] = final_lr_;
  return j;
}

// ---- step decay -------------------------------------------------------------------------------

StepDecayLr::StepDecayLr(double base_lr, std::vector<int64_t> milestones, double gamma,
                         const LinearWarmup& warmup)
    : LrSchedule(base_lr, warmup), milestones_(std::move(milestones)), gamma_(gamma) {
  ASN_CHECK(std::isfinite(gamma) && gamma > 0, "lr_schedule: gamma must be finite and > 0, got {}",
            gamma);
  for (size_t i = 0; i < milestones_.size(); ++i) {
    ASN_CHECK(milestones_[i] >= 1 && (i == 0 || milestones_[i] > milestones_[i - 1]),
              "lr_schedule: milestones must be strictly increasing and >= 1, got {} at index {}",
              milestones_[i], i);
  }
}

double StepDecayLr::decayed_lr(int64_t step) const {
  double lr = base_lr();
  for (int64_t m : milestones_) {
    if (step >= m) lr *= gamma_;
  }
  return lr;
}

nlohmann::json StepDecayLr::to_json() const {
  nlohmann::json j = common_json("step");
  j["milestones"] = milestones_;
  j["gamma"] = gamma_;
  return j;
}

// ---- exponential decay ------------------------------------------------------------------------

ExponentialDecayLr::ExponentialDecayLr(double base_lr, int64_t decay_steps, double decay_rate,
                                       bool staircase, const LinearWarmup& warmup)
    : LrSchedule(base_lr, warmup),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  ASN_CHECK(decay_steps >= 1, "lr_schedule: decay_steps must be >= 1, got {}", decay_steps);
  ASN_CHECK(std::isfinite(decay_rate) && decay_rate > 0,
            "lr_schedule: decay_rate must be finite and > 0, got {}", decay_rate);
}

double ExponentialDecayLr::decayed_lr(int64_t step) const {
  double p = static_cast<double>(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = static_cast<double>(step / decay_steps_);  // integer floor (step >= 0)
  return base_lr() * std::pow(decay_rate_, p);
}

nlohmann::json ExponentialDecayLr::to_json() const {
  nlohmann::json j = common_json("exponential");
  j["decay_steps"] = decay_steps_;
  j["decay_rate"] = decay_rate_;
  j["staircase"] = staircase_;
  return j;
}

// ---- JSON -------------------------------------------------------------------------------------

std::unique_ptr<LrSchedule> make_lr_schedule(const nlohmann::json& config) {
  JsonFields f(config, "lr_schedule");
  const std::string type = f.string("type");
  const std::vector<std::string> common = {"type", "base_lr", "warmup_steps", "warmup_start_lr"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };
  std::unique_ptr<LrSchedule> s;
  if (type == "constant") {
    f.allow_only(common);
  } else if (type == "cosine") {
    f.allow_only(with({"total_steps", "final_lr"}));
  } else if (type == "step") {
    f.allow_only(with({"milestones", "gamma"}));
  } else if (type == "exponential") {
    f.allow_only(with({"decay_steps", "decay_rate", "staircase"}));
  } else {
    ASN_THROW(ValueError,
              "lr_schedule: unknown type '{}' (expected constant, cosine, step or exponential)",
              type);
  }
  const double base_lr = f.number("base_lr");
  LinearWarmup warmup;
  warmup.steps = f.integer_or("warmup_steps", 0);
  warmup.start_lr = f.number_or("warmup_start_lr", 0.0);
  if (type == "constant") {
    s = std::make_unique<ConstantLr>(base_lr, warmup);
  } else if (type == "cosine") {
    const int64_t total = f.integer("total_steps");
    const double final_lr = f.number_or("final_lr", 0.0);
    s = std::make_unique<CosineDecayLr>(base_lr, total, final_lr, warmup);
  } else if (type == "step") {
    std::vector<int64_t> milestones = f.integer_list("milestones");
    const double gamma = f.number_or("gamma", 0.1);
    s = std::make_unique<StepDecayLr>(base_lr, std::move(milestones), gamma, warmup);
  } else {
    const int64_t decay_steps = f.integer("decay_steps");
    const double rate = f.number("decay_rate");
    const bool staircase = f.boolean_or("staircase", false);
    s = std::make_unique<ExponentialDecayLr>(base_lr, decay_steps, rate, staircase, warmup);
  }
  f.finish();
  return s;
}

}  // namespace asn::ag
