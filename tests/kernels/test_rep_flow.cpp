// Representation flow (assemblenet-spec §5): the CPU op against the independent NumPy reference
// fixtures and the nested-loop oracle (also at row widths that cross the kernel's SIMD pack
// boundaries), the documented edge cases (T == 1, constant input), channel order, determinism
// (checkpoint interval, thread count), argument errors, and exact gradients (gradcheck in f64) for
// the input and every parameter, through the checkpointed backward pass.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/rep_flow.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "tests/oracles/rep_flow_fixture.h"
#include "tests/oracles/rep_flow_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

const std::string kFixtures = std::string(ASN_SOURCE_DIR) + "/tests/reference/fixtures";

RepFlowOptions options(int iterations, bool channel_mean = true, bool normalize = true,
                       int checkpoint_every = 0) {
  RepFlowOptions o;
  o.iterations = iterations;
  o.channel_mean = channel_mean;
  o.normalize = normalize;
  o.checkpoint_every = checkpoint_every;
  return o;
}

// Non-default parameters where every tap matters (negative theta exercises |theta|).
kernels::TvL1Params odd_params() {
  kernels::TvL1Params p;
  p.theta = -0.35;
  p.lambda = 0.2;
  p.tau = 0.3;
  p.img_grad_x[0] = -0.45; p.img_grad_x[1] = 0.05; p.img_grad_x[2] = 0.55;
  p.img_grad_y[0] = -0.6;  p.img_grad_y[1] = -0.02; p.img_grad_y[2] = 0.4;
  p.f_grad_x[0] = -1.1;  p.f_grad_x[1] = 0.9;
  p.f_grad_y[0] = -0.95; p.f_grad_y[1] = 1.05;
  p.f_grad_x2[0] = -0.9; p.f_grad_x2[1] = 1.2;
  p.f_grad_y2[0] = -1.05; p.f_grad_y2[1] = 0.85;
  return p;
}

Tensor oracle_flow(const Tensor& x, const kernels::TvL1Params& p, const RepFlowOptions& o) {
  const Shape s = x.shape();
  test::RepFlowOracleResult r = test::rep_flow_oracle(x.to_vector<double>(), s[0], s[1], s[2], s[3],
                                                      s[4], p, o.iterations, o.channel_mean,
                                                      o.normalize);
  const int64_t cp = o.channel_mean ? 1 : s[4];
  return Tensor::from_vector<double>(s.with(4, 2 * cp), r.flow);
}

Tensor run_flow(const Tensor& x, const kernels::TvL1Params& p, const RepFlowOptions& o) {
  NoGradGuard ng;
  return rep_flow(Variable(x), rep_flow_params(p, x.dtype()), o).value();
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double e : v) m = std::max(m, std::fabs(e));
  return m;
}

}  // namespace

// --- forward -------------------------------------------------------------------------------------

TEST_CASE("rep_flow: CPU f64 matches the NumPy reference fixtures to 1e-5", "[kernels][rep_flow]") {
  for (const char* name : {"rgb40", "multi20", "raw7"}) {
    INFO("fixture " << name);
    const test::RepFlowFixture fx = test::load_rep_flow_fixture(kFixtures, name);
    const Tensor x = Tensor::from_vector<double>(Shape(fx.x.shape), fx.x.data);
    const Tensor ref = Tensor::from_vector<double>(Shape(fx.flow64.shape), fx.flow64.data);
    const Tensor got = run_flow(x, fx.params, options(fx.iterations, fx.channel_mean, fx.normalize));
    REQUIRE(got.shape() == ref.shape());
    // 1e-5 relative per element, with an absolute floor of 1e-5 of the flow's scale for values
    // near zero.
    ASN_REQUIRE_CLOSE(got, ref, 1e-5, 1e-5 * max_abs(fx.flow64.data));
    // In double the two implementations agree far tighter than that.
    ASN_REQUIRE_CLOSE(got, ref, 1e-9, 1e-9 * max_abs(fx.flow64.data));
  }
}

TEST_CASE("rep_flow: CPU f32 tracks the float32 NumPy reference", "[kernels][rep_flow]") {
  for (const char* name : {"rgb40", "multi20", "raw7"}) {
    INFO("fixture " << name);
    const test::RepFlowFixture fx = test::load_rep_flow_fixture(kFixtures, name);
    const Tensor x = Tensor::from_vector<double>(Shape(fx.x.shape), fx.x.data).to(DType::f32);
    const Tensor ref32 = Tensor::from_vector<double>(Shape(fx.flow32.shape), fx.flow32.data);
    const Tensor ref64 = Tensor::from_vector<double>(Shape(fx.flow64.shape), fx.flow64.data);
    const Tensor got =
        run_flow(x, fx.params, options(fx.iterations, fx.channel_mean, fx.normalize)).to(DType::f64);
    // Both are float32 computations whose rounding differs (operation order, FMA contraction), so
    // the bound is on the scale of the flow: 1e-5 of max |flow|.
    ASN_REQUIRE_CLOSE(got, ref32, 0.0, 1e-5 * max_abs(fx.flow64.data));
    ASN_REQUIRE_CLOSE(got, ref64, 0.0, 1e-5 * max_abs(fx.flow64.data));
  }
}

TEST_CASE("rep_flow: matches the nested-loop oracle at odd sizes", "[kernels][rep_flow]") {
  struct Case {
    Shape shape;
    int iterations;
    bool channel_mean, normalize, odd;
  };
  const std::vector<Case> cases = {
      {Shape{2, 3, 7, 5, 3}, 9, true, true, false},    // AssembleNet's path, odd H and W
      {Shape{1, 2, 1, 6, 3}, 6, true, true, false},    // H = 1: no vertical neighbours
      {Shape{1, 3, 5, 1, 3}, 6, true, true, true},     // W = 1: no horizontal neighbours
      {Shape{2, 3, 4, 6, 2}, 11, false, true, true},   // general per-channel path, odd params
      {Shape{1, 4, 3, 5, 3}, 4, false, false, false},  // no normalisation at all
      {Shape{1, 1, 4, 5, 3}, 5, true, true, false},    // T = 1: zero flow
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    INFO("shape " << c.shape.str() << " iterations " << c.iterations);
    Tensor x = test::random_uniform(c.shape, ++seed, 0.0, 1.0);
    if (!c.normalize) x = test::random_uniform(c.shape, seed, 0.0, 60.0);
    const kernels::TvL1Params p = c.odd ? odd_params() : kernels::TvL1Params{};
    const RepFlowOptions o = options(c.iterations, c.channel_mean, c.normalize);
    const Tensor ref = oracle_flow(x, p, o);
    ASN_REQUIRE_CLOSE(run_flow(x, p, o), ref, 1e-10, 1e-10);
    ASN_REQUIRE_CLOSE(run_flow(x.to(DType::f32), p, o).to(DType::f64), ref, 0.0,
                      1e-4 * std::max(1.0, max_abs(ref.to_vector<double>())));
  }
}

TEST_CASE("rep_flow: rows of full and partial SIMD packs match the nested-loop oracle",
          "[kernels][rep_flow]") {
  // The CPU kernel works on rows in packs of 16 floats / 8 doubles (AVX-512; 8 / 4 with AVX): these
  // widths give rows of only full packs, full packs plus a partial one, a single partial pack, and
  // one column, in both precisions; H = 1 and many planes (more than threads) are included.
  struct Case {
    Shape shape;
    int iterations;
    bool channel_mean, normalize, odd;
  };
  const std::vector<Case> cases = {
      {Shape{1, 3, 5, 16, 1}, 7, false, true, false},   // f32: one full pack; f64: two
      {Shape{1, 2, 4, 17, 2}, 6, false, false, true},   // a full pack and a 1-lane tail, 2 channels
      {Shape{2, 3, 6, 33, 3}, 8, true, true, true},     // two full packs + 1 (f32), 4 + 1 (f64)
      {Shape{1, 2, 3, 8, 1}, 5, false, true, true},     // f32: one partial pack; f64: one full
      {Shape{1, 3, 1, 40, 1}, 6, false, true, false},   // H = 1 with full packs
      {Shape{1, 2, 19, 1, 1}, 6, false, true, true},    // W = 1, tall
      {Shape{3, 4, 9, 23, 1}, 9, false, false, true},   // 9 planes, 23 = 16 + 7 = 2 * 8 + 7
  };
  uint64_t seed = 300;
  for (const Case& c : cases) {
    INFO("shape " << c.shape.str() << " iterations " << c.iterations);
    Tensor x = test::random_uniform(c.shape, ++seed, 0.0, c.normalize ? 1.0 : 60.0);
    const kernels::TvL1Params p = c.odd ? odd_params() : kernels::TvL1Params{};
    const RepFlowOptions o = options(c.iterations, c.channel_mean, c.normalize);
    const Tensor ref = oracle_flow(x, p, o);
    ASN_REQUIRE_CLOSE(run_flow(x, p, o), ref, 1e-10, 1e-10);
    ASN_REQUIRE_CLOSE(run_flow(x.to(DType::f32), p, o).to(DType::f64), ref, 0.0,
                      1e-4 * std::max(1.0, max_abs(ref.to_vector<double>())));
  }
}

TEST_CASE("rep_flow: T = 1 gives a zero flow, the last flow frame is duplicated",
          "[kernels][rep_flow]") {
  const Tensor x1 = test::random_uniform(Shape{2, 1, 5, 6, 3}, 3, 0.0, 1.0);
  const Tensor f1 = run_flow(x1, {}, options(8));
  REQUIRE(f1.shape() == Shape({2, 1, 5, 6, 2}));
  for (double v : f1.to_vector<double>()) REQUIRE(v == 0.0);

  const Tensor x = test::random_uniform(Shape{2, 3, 5, 6, 3}, 4, 0.0, 1.0);
  const std::vector<double> f = run_flow(x, {}, options(8)).to_vector<double>();
  const size_t frame = 5 * 6 * 2;
  double moved = 0;
  for (size_t n = 0; n < 2; ++n)
    for (size_t k = 0; k < frame; ++k) {
      REQUIRE(f[(n * 3 + 2) * frame + k] == f[(n * 3 + 1) * frame + k]);
      moved = std::max(moved, std::fabs(f[(n * 3 + 1) * frame + k] - f[(n * 3) * frame + k]));
    }
  REQUIRE(moved > 0);  // the two real pairs differ: the duplicate is not a coincidence
}

TEST_CASE("rep_flow: a constant input (max == min) gives a zero flow", "[kernels][rep_flow]") {
  for (DType dt : {DType::f64, DType::f32}) {
    const Tensor x = Tensor::full(Shape{1, 3, 4, 5, 3}, 0.7, dt);
    const Tensor f = run_flow(x, {}, options(10));
    for (double v : f.to_vector<double>()) REQUIRE(v == 0.0);
    // The normalised image is x - min: all zeros.
    NoGradGuard ng;
    for (double v : rep_flow_input(Variable(x), options(10)).value().to_vector<double>())
      REQUIRE(v == 0.0);
  }
}

TEST_CASE("rep_flow: channels are depthwise, output is u1 of every channel then u2",
          "[kernels][rep_flow]") {
  const int64_t C = 3;
  const Tensor x = test::random_uniform(Shape{1, 3, 5, 4, C}, 21, 0.0, 50.0);
  const RepFlowOptions o = options(7, false, false);
  const std::vector<double> all = run_flow(x, odd_params(), o).to_vector<double>();
  const std::vector<double> xv = x.to_vector<double>();
  const int64_t pixels = 3 * 5 * 4;
  for (int64_t c = 0; c < C; ++c) {
    std::vector<double> xc(static_cast<size_t>(pixels));
    for (int64_t q = 0; q < pixels; ++q) xc[static_cast<size_t>(q)] = xv[static_cast<size_t>(q * C + c)];
    const std::vector<double> one =
        run_flow(Tensor::from_vector<double>(Shape{1, 3, 5, 4, 1}, xc), odd_params(), o)
            .to_vector<double>();
    for (int64_t q = 0; q < pixels; ++q) {
      REQUIRE(all[static_cast<size_t>(q * 2 * C + c)] == one[static_cast<size_t>(q * 2)]);
      REQUIRE(all[static_cast<size_t>(q * 2 * C + C + c)] == one[static_cast<size_t>(q * 2 + 1)]);
    }
  }
}

TEST_CASE("rep_flow: argument errors name the op and the tensors", "[kernels][rep_flow]") {
  const RepFlowParams p64 = rep_flow_params({}, DType::f64);
  const Variable x(test::random_uniform(Shape{1, 2, 4, 4, 3}, 1, 0.0, 1.0));
  REQUIRE_THROWS_WITH(rep_flow(Variable(test::random_uniform(Shape{2, 4, 4, 3}, 1)), p64),
                      Catch::Contains("rep_flow: input must have rank 5") &&
                          Catch::Contains("(2, 4, 4, 3)"));
  REQUIRE_THROWS_WITH(rep_flow(Variable(Tensor::zeros(Shape{1, 2, 0, 4, 3}, DType::f64)), p64),
                      Catch::Contains("rep_flow: input must have no empty axis") &&
                          Catch::Contains("(1, 2, 0, 4, 3)"));
  REQUIRE_THROWS_WITH(rep_flow(Variable(Tensor::zeros(Shape{1, 2, 4, 4, 3}, DType::i32)), p64),
                      Catch::Contains("rep_flow: input must be f32 or f64") &&
                          Catch::Contains("i32"));
  REQUIRE_THROWS_WITH(rep_flow(x, rep_flow_params({}, DType::f32)),
                      Catch::Contains("rep_flow: parameter theta is f32 (1,) on cpu but input is "
                                      "f64 (1, 2, 4, 4, 3) on cpu"));
  RepFlowParams bad = p64;
  bad.f_grad_y2 = Variable(Tensor::zeros(Shape{3}, DType::f64));
  REQUIRE_THROWS_WITH(rep_flow(x, bad), Catch::Contains("rep_flow: parameter f_grad_y2 must have "
                                                        "shape (2,)") &&
                                            Catch::Contains("f64 (3,) on cpu"));
  RepFlowParams missing = p64;
  missing.lambda = Variable();
  REQUIRE_THROWS_WITH(rep_flow(x, missing), Catch::Contains("rep_flow: parameter lambda is undefined"));
  REQUIRE_THROWS_WITH(rep_flow(x, p64, options(0)),
                      Catch::Contains("rep_flow: iterations must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(rep_flow(x, p64, options(3, true, true, -2)),
                      Catch::Contains("rep_flow: checkpoint_every must be >= 0"));
  REQUIRE_THROWS_WITH(tvl1_flow(Variable(test::random_uniform(Shape{2, 4, 4, 3}, 1)), p64),
                      Catch::Contains("tvl1_flow: input must have rank 5"));
  REQUIRE_THROWS_WITH(rep_flow_input(Variable(test::random_uniform(Shape{4, 3}, 1))),
                      Catch::Contains("rep_flow_input: input must have rank 5"));
}

// --- backward ------------------------------------------------------------------------------------

namespace {

// x drawn uniformly in [lo, hi), re-drawn until every mask decision of the run is at least
// `margin` away from its threshold (so finite differences never switch a branch) and all three
// step branches occur (so each branch's adjoint is exercised).
Tensor draw_away_from_thresholds(const Shape& s, uint64_t seed, double lo, double hi,
                                 const kernels::TvL1Params& p, const RepFlowOptions& o,
                                 double margin) {
  for (uint64_t k = 0; k < 200; ++k) {
    Tensor x = test::random_uniform(s, seed + 1000 * k, lo, hi);
    const test::RepFlowOracleResult r = test::rep_flow_oracle(
        x.to_vector<double>(), s[0], s[1], s[2], s[3], s[4], p, o.iterations, o.channel_mean,
        o.normalize);
    const bool all_branches = s[1] == 1 || (r.branch_count[1] > 0 && r.branch_count[2] > 0 &&
                                            r.branch_count[3] > 0);
    if (r.min_margin > margin && all_branches) return x;
  }
  FAIL("no input away from the TV-L1 thresholds found for " << s.str());
  return Tensor();
}

std::vector<Tensor> param_tensors(const kernels::TvL1Params& p) {
  std::vector<Tensor> out;
  for (const RepFlowParamSpec& s : rep_flow_param_specs(p))
    out.push_back(Tensor::from_vector<double>(s.shape, s.init));
  return out;
}

// gradcheck of rep_flow with respect to x and all nine parameters.
GradcheckResult check_rep_flow(const Tensor& x, const kernels::TvL1Params& p,
                               const RepFlowOptions& o) {
  std::vector<Tensor> inputs = param_tensors(p);
  inputs.insert(inputs.begin(), x);
  GradcheckOptions gopt;
  gopt.eps = 1e-6;
  gopt.rtol = 1e-6;
  gopt.atol = 1e-8;
  return gradcheck(
      [&](const std::vector<Variable>& v) {
        return rep_flow(v[0], RepFlowParams::from_list({v.begin() + 1, v.end()}), o);
      },
      inputs, gopt);
}

// Gradients of x and all parameters for a fixed projection of the output.
std::vector<std::vector<double>> all_grads(const Tensor& x, const kernels::TvL1Params& p,
                                           const RepFlowOptions& o) {
  tape().clear();
  Variable xv(x.clone(), true);
  RepFlowParams ps = rep_flow_params(p, x.dtype(), Device::cpu(), true);
  Variable f = rep_flow(xv, ps, o);
  backward(f, test::random_uniform(f.shape(), 77, -1, 1, x.dtype()));
  std::vector<std::vector<double>> g{xv.grad().to_vector<double>()};
  for (const Variable& v : ps.list()) g.push_back(v.grad().to_vector<double>());
  return g;
}

}  // namespace

TEST_CASE("rep_flow backward: gradcheck of x and every parameter, AssembleNet path",
          "[kernels][rep_flow]") {
  // N = 1, T = 3, H = 5, W = 6, RGB; 4 iterations in checkpoint segments of 3 and 1.
  const RepFlowOptions o = options(4, true, true, 3);
  const kernels::TvL1Params p;
  const Tensor x = draw_away_from_thresholds(Shape{1, 3, 5, 6, 3}, 1, 0.0, 1.0, p, o, 0.05);
  const GradcheckResult r = check_rep_flow(x, p, o);
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("rep_flow backward: gradcheck, general per-channel path with odd parameters",
          "[kernels][rep_flow]") {
  // No channel mean, normalisation on, T = 2 (one pair), odd sizes, 5 iterations, K = 2.
  const RepFlowOptions o = options(5, false, true, 2);
  const Tensor x = draw_away_from_thresholds(Shape{1, 2, 5, 3, 2}, 2, 0.0, 1.0, odd_params(), o, 0.05);
  const GradcheckResult r = check_rep_flow(x, odd_params(), o);
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("rep_flow backward: gradcheck without normalisation, two clips, every state stored",
          "[kernels][rep_flow]") {
  const RepFlowOptions o = options(3, false, false, 1);
  const Tensor x = draw_away_from_thresholds(Shape{2, 4, 3, 5, 1}, 3, 0.0, 30.0, odd_params(), o, 0.01);
  const GradcheckResult r = check_rep_flow(x, odd_params(), o);
  INFO(r.report);
  REQUIRE(r.ok);
}

TEST_CASE("rep_flow backward: gradcheck across full and partial SIMD packs",
          "[kernels][rep_flow]") {
  // W = 19: in f64 two full packs of 8 and a 3-lane tail (AVX-512), so the packed adjoint, its
  // border masks and the tail's parameter-gradient masking are all checked; then H = 1.
  const RepFlowOptions o = options(4, false, true, 3);
  const Tensor x =
      draw_away_from_thresholds(Shape{1, 2, 3, 19, 1}, 4, 0.0, 1.0, odd_params(), o, 0.02);
  const GradcheckResult r = check_rep_flow(x, odd_params(), o);
  INFO(r.report);
  REQUIRE(r.ok);
  const RepFlowOptions o1 = options(3, false, true, 2);
  const Tensor x1 =
      draw_away_from_thresholds(Shape{1, 3, 1, 10, 1}, 5, 0.0, 1.0, odd_params(), o1, 0.02);
  const GradcheckResult r1 = check_rep_flow(x1, odd_params(), o1);
  INFO(r1.report);
  REQUIRE(r1.ok);
}

TEST_CASE("rep_flow backward: T = 1 has zero gradients", "[kernels][rep_flow]") {
  const Tensor x = test::random_uniform(Shape{2, 1, 4, 3, 3}, 4, 0.0, 1.0);
  const GradcheckResult r = check_rep_flow(x, {}, options(3));
  INFO(r.report);
  REQUIRE(r.ok);
  for (const std::vector<double>& g : all_grads(x, {}, options(3)))
    for (double v : g) REQUIRE(v == 0.0);
}

TEST_CASE("rep_flow backward: the checkpoint interval changes memory, not results",
          "[kernels][rep_flow]") {
  const Tensor x = test::random_uniform(Shape{2, 3, 6, 5, 3}, 5, 0.0, 1.0);
  const kernels::TvL1Params p = odd_params();
  const std::vector<std::vector<double>> ref = all_grads(x, p, options(10, true, true, 1));
  for (int k : {0, 2, 3, 4, 9, 10, 25}) {
    INFO("checkpoint_every " << k);
    REQUIRE(all_grads(x, p, options(10, true, true, k)) == ref);  // bitwise
  }
  for (int k : {1, 3, 0}) {
    INFO("f32, checkpoint_every " << k);
    const Tensor x32 = x.to(DType::f32);
    REQUIRE(all_grads(x32, p, options(10, true, true, k)) ==
            all_grads(x32, p, options(10, true, true, 2)));
  }
}

TEST_CASE("rep_flow: results do not depend on the thread count", "[kernels][rep_flow]") {
  const Tensor x = test::random_uniform(Shape{2, 3, 7, 9, 3}, 6, 0.0, 1.0, DType::f32);
  const int before = num_threads();
  set_num_threads(1);
  const std::vector<std::vector<double>> one = all_grads(x, odd_params(), options(6));
  const std::vector<double> f1 = run_flow(x, odd_params(), options(6)).to_vector<double>();
  set_num_threads(2);
  const std::vector<std::vector<double>> two = all_grads(x, odd_params(), options(6));
  const std::vector<double> f2 = run_flow(x, odd_params(), options(6)).to_vector<double>();
  set_num_threads(before);
  REQUIRE(f1 == f2);
  REQUIRE(one == two);
}

TEST_CASE("rep_flow: thread count invariance, plane by plane and split into rows",
          "[kernels][rep_flow]") {
  // 2 clips x 3 pairs x 2 channels = 12 planes of 6 x 37 (f32: 2 full packs + 5 lanes): every
  // thread count works plane by plane. 1 plane, and 3 planes: with more threads than planes the
  // forward pass splits its passes over rows (checkpoints included, which the backward reads).
  const std::vector<Shape> shapes = {Shape{2, 4, 6, 37, 2}, Shape{1, 2, 9, 21, 1},
                                     Shape{1, 4, 5, 18, 3}};
  const int before = num_threads();
  for (const Shape& s : shapes) {
    INFO("shape " << s.str());
    const Tensor x = test::random_uniform(s, 16, 0.0, 1.0, DType::f32);
    const RepFlowOptions o = options(7, s[4] == 3, true, 3);
    std::vector<std::vector<std::vector<double>>> grads;
    std::vector<std::vector<double>> flows;
    for (int threads : {1, 2, 3, 5}) {
      set_num_threads(threads);
      grads.push_back(all_grads(x, odd_params(), o));
      flows.push_back(run_flow(x, odd_params(), o).to_vector<double>());
    }
    set_num_threads(before);
    for (size_t k = 1; k < grads.size(); ++k) {
      REQUIRE(flows[k] == flows[0]);
      REQUIRE(grads[k] == grads[0]);
    }
  }
}

TEST_CASE("rep_flow_input backward: gradcheck and TF's tie splitting of min / max",
          "[kernels][rep_flow]") {
  GradcheckOptions gopt;
  for (bool mean : {true, false}) {
    INFO("channel_mean " << mean);
    const Tensor x = test::random_distinct(Shape{2, 3, 3, 2, 3}, 8 + mean, 0.01);
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Variable>& v) { return rep_flow_input(v[0], options(1, mean)); }, {x},
        gopt);
    INFO(r.report);
    REQUIRE(r.ok);
  }
  // Ties: 2 elements at the minimum (0.1), 3 at the maximum (0.9), one channel, no mean.
  std::vector<double> xv = {0.1, 0.5, 0.9, 0.3, 0.9, 0.1, 0.7, 0.9, 0.2, 0.6};
  const Tensor x = Tensor::from_vector<double>(Shape{1, 2, 1, 5, 1}, xv);
  const Tensor g = test::random_uniform(x.shape(), 9, -1, 1);
  const std::vector<double> gv = g.to_vector<double>();
  tape().clear();
  Variable xvar(x, true);
  Variable y = rep_flow_input(xvar, options(1, false, true));
  backward(y, g);
  const std::vector<double> got = xvar.grad().to_vector<double>();
  // By hand: y = s (x - mn), s = 255 / 0.8; dL/dmn = -s G + R / 0.8, dL/dmx = -R / 0.8.
  const double s = 255.0 / 0.8;
  double G = 0, R = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    G += gv[i];
    R += gv[i] * s * (xv[i] - 0.1);
  }
  for (size_t i = 0; i < xv.size(); ++i) {
    double want = s * gv[i];
    if (xv[i] == 0.1) want += (-s * G + R / 0.8) / 2;
    if (xv[i] == 0.9) want += (-R / 0.8) / 3;
    REQUIRE(got[i] == Approx(want).epsilon(1e-12));
  }
  // Constant input: y = x - min with every element tied at the minimum: dx = g - mean(g).
  const Tensor c = Tensor::full(Shape{1, 2, 1, 5, 1}, 0.4, DType::f64);
  tape().clear();
  Variable cvar(c, true);
  backward(rep_flow_input(cvar, options(1, false, true)), g);
  const std::vector<double> gc = cvar.grad().to_vector<double>();
  for (size_t i = 0; i < gv.size(); ++i) REQUIRE(gc[i] == Approx(gv[i] - G / 10).epsilon(1e-12));
  // And the whole layer on a constant input has finite gradients.
  for (const std::vector<double>& gr : all_grads(Tensor::full(Shape{1, 3, 4, 5, 3}, 0.4, DType::f64),
                                                 {}, options(5)))
    for (double v : gr) REQUIRE(std::isfinite(v));
}
