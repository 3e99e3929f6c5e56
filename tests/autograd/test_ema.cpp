// Exponential moving average of the weights (autograd/optim/ema.h): the update formula with fixed
// and dynamic decay, the per-parameter views, swapping the average in and the weights back bit for
// bit, restoring a saved average, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/optim/ema.h"
#include "engine/rng.h"

using namespace asn;
using namespace asn::ag;

namespace {

// Two trainable parameters and one buffer, f64 on the CPU.
struct Model {
  Parameters ps;
  Variable w, b, stat;
  Model() {
    w = ps.add("w", Shape{2, 3}, init::uniform(-1, 1));
    b = ps.add("b", Shape{4}, init::uniform(-1, 1), ParamOptions{true, false});
    stat = ps.add_buffer("stat", Shape{2}, init::ones());
    Generator g(3);
    ps.finalize(DType::f64, Device::cpu(), g);
  }
  // Moves every trainable value by `delta` (a stand-in for an optimizer step).
  void step(double delta) {
    double* v = ps.values().data<double>();
    for (int64_t i = 0; i < ps.num_trainable(); ++i) v[i] += delta * static_cast<double>(i + 1);
  }
};

}  // namespace

TEST_CASE("ema: fixed decay follows ema = d ema + (1 - d) w", "[autograd][ema]") {
  Model m;
  Ema ema(m.ps, EmaOptions{0.9, false});
  std::vector<double> expect = m.ps.values().to_vector<double>();
  REQUIRE(ema.values().to_vector<double>() == expect);  // starts at the weights
  for (int k = 1; k <= 4; ++k) {
    m.step(0.25 * k);
    ema.update();
    const std::vector<double> w = m.ps.values().to_vector<double>();
    for (size_t i = 0; i < w.size(); ++i) expect[i] = 0.9 * expect[i] + 0.1 * w[i];
    const std::vector<double> got = ema.values().to_vector<double>();
    for (size_t i = 0; i < w.size(); ++i) REQUIRE(got[i] == Approx(expect[i]).epsilon(1e-14));
  }
  REQUIRE(ema.updates() == 4);
  REQUIRE(ema.next_decay() == 0.9);
}

TEST_CASE("ema: dynamic decay ramps up as (1 + n) / (10 + n) and is capped by decay", "[autograd][ema]") {
  Model m;
  Ema ema(m.ps, EmaOptions{0.5, true});
  REQUIRE(ema.next_decay() == Approx(0.1));  // n = 0
  ema.update();
  REQUIRE(ema.next_decay() == Approx(2.0 / 11.0));
  for (int k = 0; k < 20; ++k) ema.update();
  REQUIRE(ema.next_decay() == 0.5);  // (1 + 21) / (10 + 21) > 0.5
  // With d = 0.1 at the first update the average moves 90% of the way to the weights.
  Model a;
  Ema first(a.ps, EmaOptions{0.9999, true});
  const std::vector<double> before = a.ps.values().to_vector<double>();
  a.step(1.0);
  first.update();
  const std::vector<double> w = a.ps.values().to_vector<double>(), got = first.values().to_vector<double>();
  for (size_t i = 0; i < w.size(); ++i) REQUIRE(got[i] == Approx(0.1 * before[i] + 0.9 * w[i]).epsilon(1e-14));
}

TEST_CASE("ema: named views, swapping in and out, restoring, errors", "[autograd][ema]") {
  Model m;
  Ema ema(m.ps, EmaOptions{0.8, false});
  m.step(1.0);
  ema.update();
  // One view per trainable parameter (the buffer is not averaged), equal to its slice of the average.
  const auto views = ema.named_views();
  REQUIRE(views.size() == 2);
  REQUIRE(views[0].first == "w");
  REQUIRE(views[0].second.shape() == Shape{2, 3});
  REQUIRE(views[1].first == "b");
  const std::vector<double> flat = ema.values().to_vector<double>();
  const std::vector<double> bv = views[1].second.to_vector<double>();
  const int64_t b_offset = m.ps.find("b").offset;
  for (size_t i = 0; i < bv.size(); ++i) REQUIRE(bv[i] == flat[static_cast<size_t>(b_offset) + i]);
  // The swap puts the average in and restores every bit of the weights.
  const std::vector<double> weights = m.ps.values().to_vector<double>();
  {
    EmaSwap swap(m.ps, &ema);
    REQUIRE(m.ps.values().to_vector<double>() == flat);
    REQUIRE(m.w.value().to_vector<double>() == views[0].second.to_vector<double>());
  }
  REQUIRE(m.ps.values().to_vector<double>() == weights);
  { EmaSwap none(m.ps, nullptr); }
  REQUIRE(m.ps.values().to_vector<double>() == weights);
  // Restore into a fresh average.
  Ema other(m.ps, EmaOptions{0.8, false});
  other.load(ema.values(), ema.updates());
  REQUIRE(other.values().to_vector<double>() == flat);
  REQUIRE(other.updates() == 1);
  REQUIRE_THROWS_WITH(other.load(Tensor::zeros(Shape{3}, DType::f64), 0), Catch::Contains("does not fit"));
  REQUIRE_THROWS_WITH(Ema(m.ps, EmaOptions{1.0, false}), Catch::Contains("decay must be in (0, 1)"));
  Parameters open;
  open.add("x", Shape{1}, init::zeros());
  REQUIRE_THROWS_WITH(Ema(open, EmaOptions{}), Catch::Contains("initialised first"));
}
