// Learning-rate schedules: values at the key steps (start, end of warmup, middle, end, beyond),
// the Model Garden recipes of the spec, staircase behaviour, JSON round trips and strict keys.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/optim/lr_schedule.h"
#include "engine/error.h"

using namespace asn;
using namespace asn::ag;

namespace {
const double kPi = 3.14159265358979323846;
}  // namespace

TEST_CASE("lr: constant, with and without warmup", "[lr]") {
  ConstantLr c(0.1);
  REQUIRE(c.lr(0) == 0.1);
  REQUIRE(c.lr(123456) == 0.1);
  ConstantLr w(0.1, LinearWarmup{10, 0.02});
  REQUIRE(w.lr(0) == Approx(0.02).epsilon(1e-15));
  REQUIRE(w.lr(5) == Approx(0.06).epsilon(1e-15));  // halfway from 0.02 to 0.1
  REQUIRE(w.lr(9) == Approx(0.02 + 0.9 * 0.08).epsilon(1e-15));
  REQUIRE(w.lr(10) == 0.1);
  REQUIRE_THROWS_WITH(w.lr(-1), Catch::Contains("lr_schedule: step must be >= 0"));
}

TEST_CASE("lr: linear warmup then cosine decay (Model Garden)", "[lr]") {
  // base 0.8, warmup 100 from 0, cosine over the global step to 1000, final 0.
  CosineDecayLr s(0.8, 1000, 0.0, LinearWarmup{100, 0.0});
  // The warmup ramps to the cosine's value at step 100 (MG LinearWarmup), not to base_lr.
  const double at100 = 0.8 * 0.5 * (1 + std::cos(kPi * 0.1));
  REQUIRE(at100 == Approx(0.7804226065180614).epsilon(1e-14));
  REQUIRE(s.lr(0) == 0.0);
  REQUIRE(s.lr(50) == Approx(0.5 * at100).epsilon(1e-14));
  REQUIRE(s.lr(99) == Approx(0.99 * at100).epsilon(1e-14));
  REQUIRE(s.lr(100) == Approx(at100).epsilon(1e-14));
  REQUIRE(s.lr(500) == Approx(0.4).epsilon(1e-14));  // the middle of the cosine
  REQUIRE(s.lr(750) == Approx(0.4 * (1 + std::cos(kPi * 0.75))).epsilon(1e-14));
  REQUIRE(s.lr(1000) == Approx(0.0).margin(1e-16));
  REQUIRE(s.lr(5000) == Approx(0.0).margin(1e-16));  // stays at final_lr after total_steps
  // Monotone after the warmup.
  for (int64_t k = 101; k <= 1000; k += 37) REQUIRE(s.lr(k) <= s.lr(k - 1));

  // final_lr and a warmup start.
  CosineDecayLr f(1.0, 200, 0.2, LinearWarmup{20, 0.1});
  const double at20 = 0.2 + 0.8 * 0.5 * (1 + std::cos(kPi * 0.1));
  REQUIRE(f.lr(0) == Approx(0.1).epsilon(1e-15));
  REQUIRE(f.lr(10) == Approx(0.1 + 0.5 * (at20 - 0.1)).epsilon(1e-14));
  REQUIRE(f.lr(20) == Approx(at20).epsilon(1e-14));
  REQUIRE(f.lr(100) == Approx(0.6).epsilon(1e-14));
  REQUIRE(f.lr(200) == Approx(0.2).epsilon(1e-14));
  REQUIRE(f.lr(201) == Approx(0.2).epsilon(1e-14));

  // The Kinetics-600 recipe of the spec: 1.6, warmup 1785 from 0, 15708 steps.
  CosineDecayLr k(1.6, 15708, 0.0, LinearWarmup{1785, 0.0});
  REQUIRE(k.lr(0) == 0.0);
  REQUIRE(k.lr(1785) == Approx(0.8 * (1 + std::cos(kPi * 1785.0 / 15708.0))).epsilon(1e-14));
  REQUIRE(k.lr(7854) == Approx(0.8).epsilon(1e-14));
  REQUIRE(k.lr(15708) == Approx(0.0).margin(1e-15));
}

TEST_CASE("lr: step decay at milestones", "[lr]") {
  StepDecayLr s(0.1, {30, 80}, 0.1);
  REQUIRE(s.lr(0) == 0.1);
  REQUIRE(s.lr(29) == 0.1);
  REQUIRE(s.lr(30) == Approx(0.01).epsilon(1e-15));
  REQUIRE(s.lr(79) == Approx(0.01).epsilon(1e-15));
  REQUIRE(s.lr(80) == Approx(0.001).epsilon(1e-15));
  REQUIRE(s.lr(100000) == Approx(0.001).epsilon(1e-15));
  StepDecayLr w(0.4, {10}, 0.5, LinearWarmup{4, 0.0});
  REQUIRE(w.lr(0) == 0.0);
  REQUIRE(w.lr(2) == Approx(0.2).epsilon(1e-15));
  REQUIRE(w.lr(4) == 0.4);
  REQUIRE(w.lr(10) == 0.2);
  REQUIRE_THROWS_WITH(StepDecayLr(0.1, {30, 30}), Catch::Contains("milestones"));
  REQUIRE_THROWS_WITH(StepDecayLr(0.1, {0}), Catch::Contains("milestones"));
  REQUIRE_THROWS_WITH(StepDecayLr(0.1, {5}, 0.0), Catch::Contains("gamma"));
}

TEST_CASE("lr: exponential decay, staircase and continuous, with warmup", "[lr]") {
  // The UCF101 YAML of the spec: 0.008, decay_steps 1024, rate 0.96, staircase, warmup 50.
  ExponentialDecayLr s(0.008, 1024, 0.96, true, LinearWarmup{50, 0.0});
  REQUIRE(s.lr(0) == 0.0);
  REQUIRE(s.lr(25) == Approx(0.004).epsilon(1e-15));
  REQUIRE(s.lr(50) == 0.008);
  REQUIRE(s.lr(1023) == 0.008);
  REQUIRE(s.lr(1024) == Approx(0.008 * 0.96).epsilon(1e-15));
  REQUIRE(s.lr(2047) == Approx(0.008 * 0.96).epsilon(1e-15));
  REQUIRE(s.lr(2048) == Approx(0.008 * 0.96 * 0.96).epsilon(1e-15));
  REQUIRE(s.lr(90000) == Approx(0.008 * std::pow(0.96, 87)).epsilon(1e-13));  // 90000 / 1024 = 87

  ExponentialDecayLr c(0.008, 1024, 0.96, false);
  REQUIRE(c.lr(0) == 0.008);
  REQUIRE(c.lr(512) == Approx(0.008 * std::sqrt(0.96)).epsilon(1e-15));
  REQUIRE(c.lr(1024) == Approx(0.008 * 0.96).epsilon(1e-15));
  REQUIRE(c.lr(1536) == Approx(0.008 * std::pow(0.96, 1.5)).epsilon(1e-15));
  // Continuous decays strictly between the stairs.
  REQUIRE(c.lr(1500) < s.lr(1500));
}

TEST_CASE("lr: JSON round trip", "[lr]") {
  const std::vector<nlohmann::json> configs = {
      {{"type", "constant"}, {"base_lr", 0.1}, {"warmup_steps", 5}, {"warmup_start_lr", 0.01}},
      {{"type", "cosine"},
       {"base_lr", 0.8},
       {"warmup_steps", 100},
       {"warmup_start_lr", 0.0},
       {"total_steps", 1000},
       {"final_lr", 0.0}},
      {{"type", "step"},
       {"base_lr", 0.1},
       {"warmup_steps", 0},
       {"warmup_start_lr", 0.0},
       {"milestones", {30, 80}},
       {"gamma", 0.2}},
      {{"type", "exponential"},
       {"base_lr", 0.008},
       {"warmup_steps", 50},
       {"warmup_start_lr", 0.0},
       {"decay_steps", 1024},
       {"decay_rate", 0.96},
       {"staircase", true}},
  };
  for (const nlohmann::json& j : configs) {
    INFO(j.dump());
    std::unique_ptr<LrSchedule> s = make_lr_schedule(j);
    REQUIRE(s->to_json() == j);
    std::unique_ptr<LrSchedule> t = make_lr_schedule(s->to_json());
    for (int64_t k : {0, 1, 3, 25, 49, 50, 99, 100, 500, 1023, 1024, 5000}) {
      REQUIRE(t->lr(k) == s->lr(k));
    }
  }
  // Omitted keys take their defaults, and to_json() writes them.
  std::unique_ptr<LrSchedule> c = make_lr_schedule({{"type", "cosine"},
                                                    {"base_lr", 0.8},
                                                    {"warmup_steps", 100},
                                                    {"total_steps", 1000},
                                                    {"final_lr", 0}});
  REQUIRE(c->to_json()["warmup_start_lr"] == 0.0);
  REQUIRE(c->lr(500) == Approx(0.4).epsilon(1e-14));
  std::unique_ptr<LrSchedule> e = make_lr_schedule(
      {{"type", "exponential"}, {"base_lr", 1}, {"decay_steps", 10}, {"decay_rate", 0.5}});
  REQUIRE(e->to_json()["staircase"] == false);
  REQUIRE(e->to_json()["warmup_steps"] == 0);
  REQUIRE(e->lr(5) == Approx(std::sqrt(0.5)).epsilon(1e-15));
  REQUIRE(make_lr_schedule({{"type", "step"}, {"base_lr", 1}, {"milestones", {2}}})->lr(2) ==
          Approx(0.1).epsilon(1e-15));
}

TEST_CASE("lr: JSON errors name the key", "[lr]") {
  using nlohmann::json;
  const json base = {{"type", "cosine"}, {"base_lr", 0.8}, {"total_steps", 1000}};
  json j = base;
  j["warmup"] = 100;  // misspelt warmup_steps
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("lr_schedule: unknown key 'warmup'") &&
                                               Catch::Contains("'warmup_steps'"));
  REQUIRE_THROWS_AS(make_lr_schedule(j), ValueError);
  j = base;
  j["decay_rate"] = 0.9;  // a key of another schedule type
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("unknown key 'decay_rate'"));
  j = base;
  j["base_lr"] = "0.8";
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("key 'base_lr' must be a number"));
  j = base;
  j["total_steps"] = 1000.5;
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("key 'total_steps' must be an integer"));
  j = base;
  j["warmup_steps"] = true;
  REQUIRE_THROWS_WITH(make_lr_schedule(j),
                      Catch::Contains("key 'warmup_steps' must be an integer"));
  j = base;
  j.erase("total_steps");
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("missing required key 'total_steps'"));
  j = base;
  j["type"] = "linear";
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("unknown type 'linear'"));
  j = base;
  j["type"] = 3;
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("key 'type' must be a string"));
  REQUIRE_THROWS_WITH(make_lr_schedule(json::array({1, 2})),
                      Catch::Contains("lr_schedule: configuration must be a JSON object"));
  REQUIRE_THROWS_WITH(make_lr_schedule({{"type", "exponential"},
                                        {"base_lr", 0.1},
                                        {"decay_steps", 10},
                                        {"decay_rate", 0.9},
                                        {"staircase", "yes"}}),
                      Catch::Contains("key 'staircase' must be true or false"));
  REQUIRE_THROWS_WITH(
      make_lr_schedule({{"type", "step"}, {"base_lr", 0.1}, {"milestones", {10, 5.5}}}),
      Catch::Contains("key 'milestones' must be an array of integers"));
  // Values are checked too.
  j = base;
  j["warmup_steps"] = 2000;
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("warmup_steps (2000)"));
  j = base;
  j["base_lr"] = -1;
  REQUIRE_THROWS_WITH(make_lr_schedule(j), Catch::Contains("base_lr must be finite and >= 0"));
  REQUIRE_THROWS_WITH(
      make_lr_schedule(
          {{"type", "exponential"}, {"base_lr", 0.1}, {"decay_steps", 0}, {"decay_rate", 0.9}}),
      Catch::Contains("decay_steps must be >= 1"));
}
