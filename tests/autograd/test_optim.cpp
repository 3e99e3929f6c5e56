// Optimizers over the flat parameter buffer: SGD (plain, momentum, Nesterov) and AdamW against
// PyTorch's numbers (tests/reference/optim_reference.py) and scalar reference loops, weight decay
// restricted to the decay range, exact state round trips, gradient clipping, JSON configuration.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "autograd/optim/adamw.h"
#include "autograd/optim/clip.h"
#include "autograd/optim/optimizer_config.h"
#include "autograd/optim/sgd.h"
#include "engine/parallel.h"
#include "tests/oracles/optim_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

// Produced by tests/reference/optim_reference.py with torch 2.15 (CPU, float64, foreach=False):
// flat layout [kernel0, kernel1, kernel2 | bias, gamma], decay on the kernel only, gradients
// kGrads and learning rates kLrs for three steps. SGD: momentum 0.9, weight_decay 0.01.
// AdamW: betas (0.9, 0.999), eps 1e-8, weight_decay 0.1.
const std::vector<double> kW0 = {0.5, -1.2, 2.0, 0.3, 1.1};
const double kGrads[3][5] = {
    {0.1, -0.2, 0.3, 0.4, -0.6}, {-0.05, 0.15, 0.25, -0.35, 0.02}, {0.3, 0.0, -0.1, 0.05, 0.5}};
const double kLrs[3] = {0.1, 0.05, 0.02};
const double kTorchSgdNesterov[3][5] = {
    {0.48005, -1.1597199999999999, 1.9392, 0.22399999999999998, 1.2140000000000002},
    {0.48009145249999996, -1.1642822659999998, 1.90064776, 0.24105, 1.2364000000000002},
    {0.46771034964805, -1.1629910040989198, 1.8946957634512, 0.23898799999999998,
     1.2258240000000002},
};
const double kTorchSgdMomentum[3][5] = {
    {0.4895, -1.1787999999999998, 1.968, 0.26, 1.1600000000000001},
    {0.48703025, -1.1761705999999998, 1.940116, 0.2595, 1.1860000000000002},
    {0.48004373395, -1.1749887818799998, 1.9316897368, 0.25832, 1.1853600000000002},
};
const double kTorchAdamW[3][5] = {
    {0.395000009999999, -1.0880000049999996, 1.8800000033333333, 0.20000000249999994,
     1.1999999983333334},
    {0.37970815965169497, -1.0780937548574008, 1.821041361382139, 0.19929977915834382,
     1.2322441353035716},
    {0.3655387327542053, -1.0745565976510723, 1.8057271668753079, 0.19788668530980108,
     1.231720531060367},
};

// The toy model: "kernel" (3,) takes weight decay; "bias" (1,) and "gamma" (1,) do not.
struct Toy {
  Parameters ps;
  explicit Toy(DType dt) {
    ps.add("kernel", Shape{3}, init::from_values({kW0[0], kW0[1], kW0[2]}));
    ps.add("bias", Shape{1}, init::from_values({kW0[3]}), ParamOptions{true, false});
    ps.add("gamma", Shape{1}, init::from_values({kW0[4]}), ParamOptions{true, false});
    Generator gen(1);
    ps.finalize(dt, Device::cpu(), gen);
    REQUIRE(ps.decay_count() == 3);
    REQUIRE(ps.num_trainable() == 5);
  }
};

void set_grads(Parameters& ps, const std::vector<double>& g) {
  ps.grads().copy_from(
      Tensor::from_vector<double>(Shape{static_cast<int64_t>(g.size())}, g).to(ps.dtype()));
}

std::vector<double> row(const double (&r)[5]) { return std::vector<double>(r, r + 5); }

Tensor f64(const std::vector<double>& v) {
  return Tensor::from_vector<double>(Shape{static_cast<int64_t>(v.size())}, v);
}

// A larger store for round trips and thread counts: "w" (n_decay,) decayed, "b" (n_rest,) not.
struct Big {
  Parameters ps;
  Big(DType dt, int64_t n_decay, int64_t n_rest) {
    ps.add("w", Shape{n_decay}, init::uniform(-1, 1));
    ps.add("b", Shape{n_rest}, init::uniform(-1, 1), ParamOptions{true, false});
    Generator gen(5);
    ps.finalize(dt, Device::cpu(), gen);
  }
  void grads_for_step(int step) {
    ps.grads().copy_from(
        test::random_normal(Shape{ps.num_trainable()}, 1000 + step, 1.0, ps.dtype()));
  }
};

}  // namespace

TEST_CASE("sgd: nesterov and plain momentum match PyTorch and the reference loop", "[optim]") {
  for (bool nesterov : {true, false}) {
    INFO("nesterov " << nesterov);
    const auto& torch_rows = nesterov ? kTorchSgdNesterov : kTorchSgdMomentum;
    Toy toy(DType::f64);
    Sgd opt(toy.ps, SgdOptions{0.9, nesterov, 0.01});
    std::vector<double> w = kW0, buf(5, 0.0);
    for (int s = 0; s < 3; ++s) {
      set_grads(toy.ps, row(kGrads[s]));
      opt.step(kLrs[s]);
      test::oracle::sgd_step(w, row(kGrads[s]), buf, 3, kLrs[s], 0.9, nesterov, 0.01);
      ASN_REQUIRE_CLOSE(toy.ps.values(), f64(row(torch_rows[s])), 1e-14, 1e-15);
      ASN_REQUIRE_CLOSE(toy.ps.values(), f64(w), 1e-14, 1e-15);
    }
    REQUIRE(opt.step_count() == 3);
    ASN_REQUIRE_CLOSE(opt.state_tensors().at(0).second, f64(buf), 1e-14, 1e-15);

    // f32 parameters follow the double reference to float precision.
    Toy toy32(DType::f32);
    Sgd opt32(toy32.ps, SgdOptions{0.9, nesterov, 0.01});
    for (int s = 0; s < 3; ++s) {
      set_grads(toy32.ps, row(kGrads[s]));
      opt32.step(kLrs[s]);
    }
    ASN_REQUIRE_CLOSE(toy32.ps.values().to(DType::f64), f64(row(torch_rows[2])), 1e-6, 1e-7);
  }
}

TEST_CASE("sgd: momentum 0 is plain SGD without state", "[optim]") {
  Toy toy(DType::f64);
  Sgd opt(toy.ps, SgdOptions{0.0, false, 0.01});
  REQUIRE(opt.state_tensors().empty());
  std::vector<double> w = kW0, buf;
  for (int s = 0; s < 3; ++s) {
    set_grads(toy.ps, row(kGrads[s]));
    opt.step(kLrs[s]);
    test::oracle::sgd_step(w, row(kGrads[s]), buf, 3, kLrs[s], 0.0, false, 0.01);
  }
  ASN_REQUIRE_CLOSE(toy.ps.values(), f64(w), 1e-15, 1e-16);
  // By hand, first element: w = 0.5 - lr (g + 0.01 w) each step.
  double w0 = 0.5;
  for (int s = 0; s < 3; ++s) w0 -= kLrs[s] * (kGrads[s][0] + 0.01 * w0);
  REQUIRE(toy.ps.values().to_vector<double>()[0] == Approx(w0).epsilon(1e-15));
}

TEST_CASE("adamw: matches PyTorch, the hand-computed first step and the reference loop",
          "[optim]") {
  Toy toy(DType::f64);
  AdamW opt(toy.ps, AdamwOptions{0.9, 0.999, 1e-8, 0.1});
  std::vector<double> w = kW0, m(5, 0.0), v(5, 0.0);
  for (int s = 0; s < 3; ++s) {
    set_grads(toy.ps, row(kGrads[s]));
    opt.step(kLrs[s]);
    test::oracle::adamw_step(w, row(kGrads[s]), m, v, 3, kLrs[s], 0.9, 0.999, 1e-8, 0.1, s + 1);
    ASN_REQUIRE_CLOSE(toy.ps.values(), f64(row(kTorchAdamW[s])), 1e-14, 1e-15);
    ASN_REQUIRE_CLOSE(toy.ps.values(), f64(w), 1e-13, 1e-15);
    if (s == 0) {
      // Step 1 by hand: m_hat = g, sqrt(v_hat) = |g|, so w1 = w0 (1 - lr wd) - lr g / (|g| + eps).
      // kernel0: 0.5 * (1 - 0.01) - 0.1 * 0.1 / (0.1 + 1e-8) = 0.395000009999999...
      // bias (no decay): 0.3 - 0.1 * 0.4 / (0.4 + 1e-8) = 0.2000000025
      const std::vector<double> got = toy.ps.values().to_vector<double>();
      REQUIRE(got[0] == Approx(0.5 * 0.99 - 0.1 * 0.1 / (0.1 + 1e-8)).epsilon(1e-15));
      REQUIRE(got[3] == Approx(0.3 - 0.1 * 0.4 / (0.4 + 1e-8)).epsilon(1e-15));
    }
  }
  const auto st = opt.state_tensors();
  REQUIRE(st.size() == 2);
  REQUIRE(st[0].first == "exp_avg");
  REQUIRE(st[1].first == "exp_avg_sq");
  ASN_REQUIRE_CLOSE(st[0].second, f64(m), 1e-14, 1e-16);
  ASN_REQUIRE_CLOSE(st[1].second, f64(v), 1e-14, 1e-16);

  Toy toy32(DType::f32);
  AdamW opt32(toy32.ps, AdamwOptions{0.9, 0.999, 1e-8, 0.1});
  for (int s = 0; s < 3; ++s) {
    set_grads(toy32.ps, row(kGrads[s]));
    opt32.step(kLrs[s]);
  }
  ASN_REQUIRE_CLOSE(toy32.ps.values().to(DType::f64), f64(row(kTorchAdamW[2])), 1e-6, 1e-7);
}

TEST_CASE("optimizers: weight decay touches only the decay range", "[optim]") {
  // Zero gradients: only decay moves anything. SGD (momentum 0): w *= 1 - lr wd; AdamW: m = v = 0
  // so the Adam part is 0 / (0 + eps) = 0 and w *= 1 - lr wd. Bias and gamma stay bit-identical.
  for (int which = 0; which < 3; ++which) {
    INFO("optimizer " << which);
    Toy toy(DType::f64);
    std::unique_ptr<Optimizer> opt;
    if (which == 0) opt = std::make_unique<Sgd>(toy.ps, SgdOptions{0.0, false, 0.5});
    if (which == 1) opt = std::make_unique<Sgd>(toy.ps, SgdOptions{0.9, true, 0.5});
    if (which == 2) opt = std::make_unique<AdamW>(toy.ps, AdamwOptions{0.9, 0.999, 1e-8, 0.5});
    toy.ps.zero_grad();
    opt->step(0.1);
    const std::vector<double> got = toy.ps.values().to_vector<double>();
    // Nesterov with zero gradient: d = wd w, buf = d, w -= lr (d + 0.9 d) = w (1 - 1.9 lr wd).
    const double f = which == 1 ? 1 - 1.9 * 0.1 * 0.5 : 1 - 0.1 * 0.5;
    for (int i = 0; i < 3; ++i) REQUIRE(got[i] == Approx(kW0[i] * f).epsilon(1e-15));
    REQUIRE(got[3] == kW0[3]);
    REQUIRE(got[4] == kW0[4]);
  }
}

TEST_CASE("optimizers: state round trip continues bitwise identically", "[optim]") {
  for (int which = 0; which < 2; ++which) {
    INFO((which == 0 ? "sgd nesterov" : "adamw"));
    Big big(DType::f32, 3001, 517);
    auto make = [&]() -> std::unique_ptr<Optimizer> {
      if (which == 0) return std::make_unique<Sgd>(big.ps, SgdOptions{0.9, true, 1e-4});
      return std::make_unique<AdamW>(big.ps, AdamwOptions{0.9, 0.999, 1e-8, 0.05});
    };
    std::unique_ptr<Optimizer> opt = make();
    for (int s = 0; s < 2; ++s) {
      big.grads_for_step(s);
      opt->step(0.01 * (s + 1));
    }
    // Save: values, every state tensor (copies), the step count.
    const Tensor saved_values = big.ps.values().clone();
    std::vector<std::pair<std::string, Tensor>> saved;
    for (const auto& [name, t] : opt->state_tensors()) saved.emplace_back(name, t.clone());
    const int64_t saved_step = opt->step_count();
    REQUIRE(saved_step == 2);

    auto continue3 = [&](Optimizer& o) {
      for (int s = 2; s < 5; ++s) {
        big.grads_for_step(s);
        o.step(0.01 * (s + 1));
      }
      return big.ps.values().clone();
    };
    const Tensor after = continue3(*opt);
    REQUIRE(opt->step_count() == 5);

    // Restore into the same optimizer.
    big.ps.values().copy_from(saved_values);
    opt->load_state_tensors(saved);
    opt->set_step_count(saved_step);
    const Tensor again = continue3(*opt);
    REQUIRE(again.to_vector<float>() == after.to_vector<float>());

    // Restore into a fresh optimizer (what resuming from a checkpoint does).
    big.ps.values().copy_from(saved_values);
    std::unique_ptr<Optimizer> fresh = make();
    fresh->load_state_tensors(saved);
    fresh->set_step_count(saved_step);
    const Tensor resumed = continue3(*fresh);
    REQUIRE(resumed.to_vector<float>() == after.to_vector<float>());
    for (size_t i = 0; i < saved.size(); ++i) {
      REQUIRE(fresh->state_tensors()[i].second.to_vector<float>() ==
              opt->state_tensors()[i].second.to_vector<float>());
    }
  }
}

TEST_CASE("optimizers: results do not depend on the thread count", "[optim]") {
  const int threads = num_threads();
  std::vector<std::vector<float>> results;
  for (int n : {1, 2, 3}) {
    set_num_threads(n);
    Big big(DType::f32, 70001, 999);
    AdamW opt(big.ps, AdamwOptions{});
    for (int s = 0; s < 2; ++s) {
      big.grads_for_step(s);
      opt.step(0.001);
    }
    results.push_back(big.ps.values().to_vector<float>());
  }
  set_num_threads(threads);
  REQUIRE(results[0] == results[1]);
  REQUIRE(results[0] == results[2]);
}

TEST_CASE("optimizers: argument and state errors", "[optim]") {
  Toy toy(DType::f64);
  REQUIRE_THROWS_WITH(Sgd(toy.ps, SgdOptions{1.0, false, 0}), Catch::Contains("sgd: momentum"));
  REQUIRE_THROWS_WITH(Sgd(toy.ps, SgdOptions{0.0, true, 0}), Catch::Contains("sgd: nesterov"));
  REQUIRE_THROWS_WITH(Sgd(toy.ps, SgdOptions{0.9, false, -1}),
                      Catch::Contains("sgd: weight_decay"));
  REQUIRE_THROWS_WITH(AdamW(toy.ps, AdamwOptions{1.0, 0.999, 1e-8, 0}),
                      Catch::Contains("adamw: beta1"));
  REQUIRE_THROWS_WITH(AdamW(toy.ps, AdamwOptions{0.9, 0.999, 0, 0}), Catch::Contains("adamw: eps"));
  Parameters open;
  open.add("w", Shape{2}, init::zeros());
  REQUIRE_THROWS_WITH(Sgd(open, SgdOptions{}), Catch::Contains("finalized"));

  AdamW opt(toy.ps, AdamwOptions{});
  REQUIRE_THROWS_WITH(opt.step(-0.1), Catch::Contains("adamw: learning rate"));
  REQUIRE_THROWS_WITH(opt.step(std::nan("")), Catch::Contains("adamw: learning rate"));
  REQUIRE(opt.step_count() == 0);
  REQUIRE_THROWS_WITH(opt.set_step_count(-1), Catch::Contains("adamw: step count"));

  const Tensor z5 = Tensor::zeros(Shape{5}, DType::f64);
  REQUIRE_THROWS_WITH(opt.load_state_tensors({{"exp_avg", z5}}),
                      Catch::Contains("adamw") && Catch::Contains("'exp_avg_sq' is missing"));
  REQUIRE_THROWS_WITH(opt.load_state_tensors({{"exp_avg", z5}, {"exp_avg_sq", z5}, {"m", z5}}),
                      Catch::Contains("adamw") && Catch::Contains("unknown optimizer state 'm'"));
  REQUIRE_THROWS_WITH(
      opt.load_state_tensors({{"exp_avg", z5}, {"exp_avg_sq", Tensor::zeros(Shape{4})}}),
      Catch::Contains("adamw") && Catch::Contains("'exp_avg_sq'") && Catch::Contains("(4,)"));

  // The parameters moved to another dtype after the optimizer was made: the state no longer fits.
  Toy moved(DType::f64);
  Sgd sgd(moved.ps, SgdOptions{});
  moved.ps.to(DType::f32, Device::cpu());
  REQUIRE_THROWS_WITH(sgd.step(0.1), Catch::Contains("sgd: state 'momentum_buffer'") &&
                                         Catch::Contains("f64 (5,)") &&
                                         Catch::Contains("f32 (5,)"));
}

TEST_CASE("clip_grad_norm: returns the norm and scales only above the limit", "[optim]") {
  Toy toy(DType::f64);
  set_grads(toy.ps, {3, 0, 0, 4, 0});  // norm 5
  REQUIRE(grad_norm(toy.ps) == 5.0);
  REQUIRE(clip_grad_norm(toy.ps, 10.0) == 5.0);
  REQUIRE(toy.ps.grads().to_vector<double>() == std::vector<double>{3, 0, 0, 4, 0});
  REQUIRE(clip_grad_norm(toy.ps, 1.0) == 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  ASN_REQUIRE_CLOSE(toy.ps.grads(), f64({3 * c, 0, 0, 4 * c, 0}), 1e-15, 0);
  REQUIRE(grad_norm(toy.ps) == Approx(1.0).epsilon(1e-6));
  REQUIRE(grads_finite(toy.ps));

  // f32 gradients: norm accumulated in double.
  Big big(DType::f32, 4097, 3);
  big.grads_for_step(0);
  const std::vector<float> g = big.ps.grads().to_vector<float>();
  double ss = 0;
  for (float x : g) ss += static_cast<double>(x) * x;
  REQUIRE(clip_grad_norm(big.ps, 0.5) == Approx(std::sqrt(ss)).epsilon(1e-12));
  REQUIRE(grad_norm(big.ps) == Approx(0.5).epsilon(1e-5));

  // A non-finite gradient: the norm says so, nothing is scaled.
  set_grads(toy.ps, {1, std::numeric_limits<double>::quiet_NaN(), 0, 2, 0});
  REQUIRE_FALSE(grads_finite(toy.ps));
  REQUIRE(std::isnan(clip_grad_norm(toy.ps, 1.0)));
  REQUIRE(toy.ps.grads().to_vector<double>()[3] == 2.0);
  set_grads(toy.ps, {1, std::numeric_limits<double>::infinity(), 0, 2, 0});
  REQUIRE_FALSE(grads_finite(toy.ps));
  REQUIRE(std::isinf(clip_grad_norm(toy.ps, 1.0)));

  REQUIRE_THROWS_WITH(clip_grad_norm(toy.ps, 0.0), Catch::Contains("clip_grad_norm: max_norm"));
}

TEST_CASE("optimizers: JSON configuration round trip and strict keys", "[optim]") {
  Toy toy(DType::f64);
  const nlohmann::json sgd = {
      {"type", "sgd"}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 1e-4}};
  std::unique_ptr<Optimizer> o = make_optimizer(sgd, toy.ps);
  REQUIRE(std::string(o->name()) == "sgd");
  REQUIRE(optimizer_to_json(*o) == sgd);
  const nlohmann::json adamw = {
      {"type", "adamw"}, {"beta1", 0.8}, {"beta2", 0.99}, {"eps", 1e-6}, {"weight_decay", 0.05}};
  o = make_optimizer(adamw, toy.ps);
  REQUIRE(std::string(o->name()) == "adamw");
  REQUIRE(optimizer_to_json(*o) == adamw);
  // Defaults fill omitted keys.
  o = make_optimizer({{"type", "adamw"}}, toy.ps);
  REQUIRE(optimizer_to_json(*o)["weight_decay"] == 0.01);

  REQUIRE_THROWS_WITH(make_optimizer({{"type", "sgd"}, {"momentun", 0.9}}, toy.ps),
                      Catch::Contains("optimizer: unknown key 'momentun'"));
  REQUIRE_THROWS_WITH(make_optimizer({{"type", "sgd"}, {"nesterov", "yes"}}, toy.ps),
                      Catch::Contains("key 'nesterov' must be true or false"));
  REQUIRE_THROWS_WITH(make_optimizer({{"type", "adam"}}, toy.ps),
                      Catch::Contains("unknown type 'adam'"));
  REQUIRE_THROWS_AS(make_optimizer({{"type", "adamw"}, {"beta1", "0.9"}}, toy.ps), ValueError);
}
