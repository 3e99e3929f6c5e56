// gated_sum on CUDA against the CPU: the kernels with NaN-poisoned outputs over a table of cases
// (odd sizes, SAME padding after and before, T = 1, one input, gates on some inputs only, a weight
// index list, channel counts taking the vectorised path (C % 4 == 0) and the scalar one, more
// channel vectors than one backward block covers, more inputs than one launch takes), the
// first-index tie rule on integer-valued inputs, padding never winning on all-negative inputs,
// the autograd function's forward and backward on both devices, and the mixed-device error.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/gated_sum.h"
#include "autograd/tape.h"
#include "kernels/fusion/gated_sum.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

struct Case {
  std::string name;
  std::vector<Shape> xs;
  int64_t Hs, Ws;
  std::vector<bool> gated;            // empty: no gates
  std::vector<int64_t> weight_index;  // empty: weight j
  int64_t num_weights;
  int64_t misalign = 0;  // > 0: device copies start that many elements into their buffer
};

std::vector<Case> cases() {
  std::vector<Case> cs;
  cs.push_back({"11x11, 7x7, 4x4 -> 4x4, gated, C = 5 (scalar path)",
                {Shape{2, 3, 11, 11, 5}, Shape{2, 3, 7, 7, 5}, Shape{2, 3, 4, 4, 5}},
                4,
                4,
                {true, true, true},
                {},
                3});
  cs.push_back({"11x11, 7x7, 4x4 -> 4x4, no gates, C = 8 (vector path)",
                {Shape{2, 3, 11, 11, 8}, Shape{2, 3, 7, 7, 8}, Shape{2, 3, 4, 4, 8}},
                4,
                4,
                {},
                {},
                3});
  cs.push_back({"T = 1, non-square, W padding before, one gate, C = 3",
                {Shape{1, 1, 12, 7, 3}, Shape{1, 1, 8, 5, 3}, Shape{1, 1, 4, 3, 3}},
                4,
                3,
                {false, true, false},
                {},
                3});
  cs.push_back(
      {"one input, pooled 7x7 -> 4x4, gated, C = 4", {Shape{1, 2, 7, 7, 4}}, 4, 4, {true}, {}, 1});
  cs.push_back({"one input, identity, C = 1", {Shape{2, 1, 3, 5, 1}}, 3, 5, {}, {}, 1});
  cs.push_back({"weight index list, C = 40 (10 vectors: idle backward threads)",
                {Shape{1, 2, 9, 9, 40}, Shape{1, 2, 3, 3, 40}, Shape{1, 2, 5, 5, 40}},
                3,
                3,
                {true, false, true},
                {3, 0, 3},
                4});
  cs.push_back({"node-12-like: 56, 28 -> 14, C = 256 (two channel blocks), gated",
                {Shape{1, 2, 56, 56, 256}, Shape{1, 2, 28, 28, 256}, Shape{1, 2, 14, 14, 256}},
                14,
                14,
                {true, true, false},
                {},
                3});
  // Identity inputs only (the identity forward kernel): peer-attention-node-like channel counts.
  cs.push_back({"identity, C = 25, three gated inputs (flat vectors, per-element gates)",
                {Shape{2, 3, 8, 8, 25}, Shape{2, 3, 8, 8, 25}, Shape{2, 3, 8, 8, 25}},
                8,
                8,
                {true, true, true},
                {},
                3});
  cs.push_back({"identity, C = 151, one gated input, T = 1",
                {Shape{2, 1, 6, 6, 151}},
                6,
                6,
                {true},
                {},
                1});
  cs.push_back({"identity, C = 128, four inputs, one ungated (vector gates)",
                {Shape{1, 2, 7, 9, 128}, Shape{1, 2, 7, 9, 128}, Shape{1, 2, 7, 9, 128},
                 Shape{1, 2, 7, 9, 128}},
                7,
                9,
                {true, false, true, true},
                {},
                4});
  cs.push_back({"identity, 105 elements (not a multiple of 4), C = 7, gated",
                {Shape{1, 1, 3, 5, 7}, Shape{1, 1, 3, 5, 7}},
                3,
                5,
                {true, true},
                {1, 0},
                2});
  cs.push_back({"identity, C = 2 (vectors span channel rows and frames), gated",
                {Shape{2, 3, 2, 3, 2}},
                2,
                3,
                {true},
                {},
                1});
  cs.push_back({"identity, 1x1 frames of C = 1 (one vector spans four frames), gated",
                {Shape{2, 4, 1, 1, 1}, Shape{2, 4, 1, 1, 1}},
                1,
                1,
                {true, true},
                {},
                2});
  cs.push_back({"identity, C = 12, misaligned buffers (scalar path)",
                {Shape{1, 2, 5, 5, 12}, Shape{1, 2, 5, 5, 12}},
                5,
                5,
                {true, true},
                {},
                2,
                1});
  std::vector<Shape> same;
  for (int j = 0; j < 10; ++j) same.push_back(Shape{1, 2, 4, 4, 20});
  cs.push_back({"identity, 10 inputs (two launches), C = 20",
                same,
                4,
                4,
                {true, true, false, true, true, true, true, true, true, true},
                {},
                10});
  std::vector<Shape> many;
  for (int j = 0; j < 11; ++j)
    many.push_back(j % 3 == 0 ? Shape{1, 2, 6, 6, 12} : Shape{1, 2, 3, 3, 12});
  cs.push_back({"11 inputs (two launches), gated except one",
                many,
                3,
                3,
                {true, true, true, true, false, true, true, true, true, true, true},
                {},
                11});
  return cs;
}

struct Host {
  std::vector<Tensor> xs, gates;
  Tensor weights;
};

Host make_inputs(const Case& c, uint64_t seed, DType dt, double lo, double hi, bool integers) {
  Host h;
  for (const Shape& s : c.xs) {
    Tensor x = test::random_uniform(s, ++seed, lo, hi, dt);
    if (integers) {
      // Values in a few integers: most windows hold ties.
      std::vector<double> v = x.to_vector<double>();
      for (double& e : v) e = std::floor(e);
      x = dt == DType::f32 ? Tensor::from_vector<float>(s, std::vector<float>(v.begin(), v.end()))
                           : Tensor::from_vector<double>(s, v);
    }
    h.xs.push_back(x);
  }
  h.weights = test::random_uniform(Shape{c.num_weights}, ++seed, 0.2, 0.9, dt);
  for (size_t j = 0; j < c.gated.size(); ++j) {
    const Shape& s = c.xs[j];
    h.gates.push_back(c.gated[j]
                          ? test::random_uniform(Shape{s[0], s[1], s[4]}, ++seed, 0.1, 1.0, dt)
                          : Tensor());
  }
  return h;
}


template <class T>
kernels::GatedSumTensors<T> pointers(const std::vector<Tensor>& xs, const Tensor& w,
                                     const std::vector<Tensor>& gates) {
  kernels::GatedSumTensors<T> p;
  for (const Tensor& x : xs) p.x.push_back(x.data<T>());
  for (const Tensor& a : gates) p.gate.push_back(a.defined() ? a.data<T>() : nullptr);
  p.weights = w.data<T>();
  return p;
}

// The kernels on both devices, every CUDA output poisoned with NaN before the launch.
template <class T>
void check_kernels(const Case& c, const Host& h, uint64_t seed) {
  const DType dt = h.weights.dtype();
  const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
  const double red_tol = dt == DType::f32 ? 1e-5 : 1e-12;
  const kernels::GatedSumGeometry g =
      kernels::make_gated_sum_geometry("test", h.xs, c.Hs, c.Ws, c.num_weights, c.weight_index);
  const Shape out = kernels::gated_sum_output_shape(g);
  Host d;
  for (const Tensor& x : h.xs) d.xs.push_back(on_gpu(x, c.misalign));
  for (const Tensor& a : h.gates) d.gates.push_back(a.defined() ? on_gpu(a, c.misalign) : Tensor());
  d.weights = h.weights.to(kGpu);
  const kernels::GatedSumTensors<T> pc = pointers<T>(h.xs, h.weights, h.gates);
  const kernels::GatedSumTensors<T> pd = pointers<T>(d.xs, d.weights, d.gates);

  // Forward.
  Tensor s = Tensor::empty(out, dt);
  kernels::gated_sum_forward_cpu<T>(g, pc, s.data<T>());
  Tensor sd = poisoned(out, dt, c.misalign);
  kernels::gated_sum_forward_cuda<T>(g, pd, sd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(sd, s, tol, tol);

  // Backward: every gradient, then dx alone (no reductions) and the reductions alone.
  const Tensor ds = test::random_uniform(out, seed, -1, 1, dt);
  const Tensor dsd = on_gpu(ds, c.misalign);
  for (int what = 0; what < 3; ++what) {
    INFO("backward variant " << what << " (0: all, 1: dx only, 2: dw and da only)");
    const bool want_dx = what != 2, want_red = what != 1;
    std::vector<Tensor> dx, dxd, da, dad;
    kernels::GatedSumGrads<T> oc, od;
    for (const Tensor& x : h.xs) {
      dx.push_back(want_dx ? Tensor::empty(x.shape(), dt) : Tensor());
      dxd.push_back(want_dx ? poisoned(x.shape(), dt, c.misalign) : Tensor());
      oc.dx.push_back(want_dx ? dx.back().data<T>() : nullptr);
      od.dx.push_back(want_dx ? dxd.back().data<T>() : nullptr);
    }
    for (const Tensor& a : h.gates) {
      const bool on = want_red && a.defined();
      da.push_back(on ? Tensor::empty(a.shape(), dt) : Tensor());
      dad.push_back(on ? poisoned(a.shape(), dt, c.misalign) : Tensor());
      oc.dgate.push_back(on ? da.back().data<T>() : nullptr);
      od.dgate.push_back(on ? dad.back().data<T>() : nullptr);
    }
    Tensor dw = Tensor::empty(Shape{c.num_weights}, dt);
    Tensor dwd = poisoned(Shape{c.num_weights}, dt);
    oc.dweights = want_red ? dw.data<T>() : nullptr;
    od.dweights = want_red ? dwd.data<T>() : nullptr;
    kernels::gated_sum_backward_cpu<T>(g, pc, ds.data<T>(), oc);
    kernels::gated_sum_backward_cuda<T>(g, pd, dsd.data<T>(), od, 0);
    for (size_t j = 0; j < dx.size(); ++j) {
      if (!want_dx) break;
      INFO("dx " << j);
      // w * (dS * a): products only, no FMA can form: bitwise the CPU's.
      ASN_REQUIRE_CLOSE(dxd[j], dx[j], 0, 0);
    }
    for (size_t j = 0; j < da.size(); ++j) {
      if (!da[j].defined()) continue;
      INFO("dgate " << j);
      ASN_REQUIRE_CLOSE(dad[j], da[j], red_tol, red_tol);
    }
    if (want_red) ASN_REQUIRE_CLOSE(dwd, dw, red_tol, red_tol);
  }
}

}  // namespace

TEST_CASE("cuda gated_sum: kernels match the CPU on random inputs (outputs poisoned)",
          "[cuda][gated_sum]") {
  uint64_t seed = 8100;
  for (const Case& c : cases()) {
    INFO(c.name);
    seed += 40;
    check_kernels<float>(c, make_inputs(c, seed, DType::f32, -2, 2, false), seed + 1);
    seed += 40;
    check_kernels<double>(c, make_inputs(c, seed, DType::f64, -2, 2, false), seed + 1);
  }
}

TEST_CASE("cuda gated_sum: first-index tie rule on integer-valued inputs", "[cuda][gated_sum]") {
  uint64_t seed = 8500;
  for (const Case& c : cases()) {
    INFO(c.name);
    // Values in {0, 1, 2}: the argmax (and with it dx) shows the scan-order rule.
    seed += 40;
    check_kernels<float>(c, make_inputs(c, seed, DType::f32, 0, 3, true), seed + 1);
  }
}

TEST_CASE("cuda gated_sum: padding never wins (all-negative inputs)", "[cuda][gated_sum]") {
  uint64_t seed = 8900;
  for (const Case& c : cases()) {
    INFO(c.name);
    seed += 40;
    check_kernels<float>(c, make_inputs(c, seed, DType::f32, -3, -1, false), seed + 1);
  }
}

TEST_CASE("cuda gated_sum: autograd forward and backward equal the CPU's", "[cuda][gated_sum]") {
  uint64_t seed = 9300;
  for (const Case& c : cases()) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(c.name << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      seed += 40;
      const Host h = make_inputs(c, seed, dt, -1, 1, false);
      const Shape out{c.xs[0][0], c.xs[0][1], c.Hs, c.Ws, c.xs[0][4]};
      const Tensor ds = test::random_uniform(out, seed + 1, -1, 1, dt);
      struct Run {
        std::vector<Variable> xs, gates;
        Variable w, s;
      };
      auto run = [&](Device dev) {
        Run r;
        tape().clear();
        for (const Tensor& x : h.xs) r.xs.emplace_back(x.to(dev), true);
        for (const Tensor& a : h.gates)
          r.gates.push_back(a.defined() ? Variable(a.to(dev), true) : Variable());
        r.w = Variable(h.weights.to(dev), true);
        r.s = gated_sum(r.xs, r.w, c.weight_index, r.gates, c.Hs, c.Ws);
        backward(r.s, ds.to(dev));
        return r;
      };
      const Run cpu = run(Device::cpu());
      const Run gpu = run(kGpu);
      REQUIRE(gpu.s.device() == kGpu);
      ASN_REQUIRE_CLOSE(gpu.s.value(), cpu.s.value(), tol, tol);
      for (size_t j = 0; j < cpu.xs.size(); ++j) {
        INFO("dx " << j);
        REQUIRE(gpu.xs[j].grad().device() == kGpu);
        ASN_REQUIRE_CLOSE(gpu.xs[j].grad(), cpu.xs[j].grad(), tol, tol);
      }
      for (size_t j = 0; j < cpu.gates.size(); ++j) {
        if (!cpu.gates[j].defined()) continue;
        INFO("dgate " << j);
        ASN_REQUIRE_CLOSE(gpu.gates[j].grad(), cpu.gates[j].grad(), tol, tol);
      }
      ASN_REQUIRE_CLOSE(gpu.w.grad(), cpu.w.grad(), tol, tol);
    }
  }
}

TEST_CASE("cuda gated_sum: mixing CPU and CUDA tensors names the op and both devices",
          "[cuda][gated_sum]") {
  const Variable xc(test::random_uniform(Shape{1, 2, 4, 4, 3}, 1, -1, 1, DType::f32));
  const Variable xg(test::random_uniform(Shape{1, 2, 4, 4, 3}, 2, -1, 1, DType::f32).to(kGpu));
  const Variable wc(Tensor::full(Shape{2}, 0.5, DType::f32));
  const Variable wg(Tensor::full(Shape{2}, 0.5, DType::f32, kGpu));
  using Catch::Contains;
  REQUIRE_THROWS_WITH(gated_sum({xc, xg}, wc, {}, 4, 4),
                      Contains("gated_sum: xs[1]") && Contains("on cuda:0") &&
                          Contains("xs[0] is f32 (1, 2, 4, 4, 3) on cpu"));
  REQUIRE_THROWS_WITH(gated_sum({xg, xg}, wc, {}, 4, 4),
                      Contains("gated_sum: weights is f32 (2,) on cpu") && Contains("on cuda:0"));
  const Variable ac(Tensor::full(Shape{1, 2, 3}, 1.0, DType::f32));
  REQUIRE_THROWS_WITH(
      gated_sum({xg, xg}, wg, {ac, Variable()}, 4, 4),
      Contains("gated_sum: gates[0] is f32 (1, 2, 3) on cpu") && Contains("on cuda:0"));
}
