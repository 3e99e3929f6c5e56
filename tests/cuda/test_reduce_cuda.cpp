// sum / mean and min / max on CUDA against the CPU: the kernels with NaN-poisoned outputs over
// axis sets that exercise every path (innermost run kept or reduced, short runs, several kept and
// reduced blocks, reductions long enough to be split into pieces), the autograd functions' forward
// and backward on both devices, TF's equal split of the gradient among tied extremes, and NaN
// propagation.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/reduce.h"
#include "autograd/tape.h"
#include "kernels/reduce/extreme.h"
#include "kernels/reduce/reduce_plan.h"
#include "kernels/reduce/sum.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;
using kernels::Extreme;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

struct SumCase {
  std::string name;
  Shape in;
  std::vector<int> axes;
};

std::vector<SumCase> sum_cases() {
  return {
      {"spatial mean of (N, T, H, W, C)", Shape{2, 3, 5, 7, 4}, {2, 3}},
      {"channels (innermost reduced, one run)", Shape{2, 3, 5, 7, 9}, {4}},
      {"every axis", Shape{2, 3, 5, 7, 4}, {0, 1, 2, 3, 4}},
      {"short reduced runs (inner 2)", Shape{5, 3, 2}, {0, 2}},
      {"two kept and two reduced blocks", Shape{3, 4, 5, 6, 7}, {1, 3}},
      {"reduced innermost, two row blocks", Shape{3, 4, 5, 6, 7}, {0, 2, 4}},
      {"long kept-inner reduction (pieces)", Shape{2, 9001, 3}, {1}},
      {"long axis-0 reduction (pieces)", Shape{70001, 5}, {0}},
      {"long whole reduction (pieces)", Shape{300007}, {0}},
      {"T = 1 temporal mean", Shape{4, 1, 6}, {1}},
  };
}


std::vector<bool> flags_of(const Shape& s, const std::vector<int>& axes) {
  std::vector<bool> f(static_cast<size_t>(s.rank()), false);
  for (int a : axes) f[static_cast<size_t>(a)] = true;
  return f;
}

template <class T>
void check_sum_kernels(const Tensor& x, const std::vector<int>& axes, double scale, uint64_t seed,
                       double tol) {
  const kernels::ReducePlan plan = kernels::make_reduce_plan(x.shape(), flags_of(x.shape(), axes));
  const DType dt = x.dtype();
  Tensor y = Tensor::empty(Shape{plan.out_numel}, dt);
  kernels::sum_forward_cpu<T>(x.data<T>(), plan, scale, y.data<T>());
  const Tensor xd = x.to(kGpu);
  Tensor yd = poisoned(Shape{plan.out_numel}, dt);
  kernels::sum_forward_cuda<T>(xd.data<T>(), plan, scale, yd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, tol, tol);

  const Tensor gy = test::random_uniform(Shape{plan.out_numel}, seed, -1, 1, dt);
  Tensor gx = Tensor::empty(x.shape(), dt);
  kernels::sum_backward_cpu<T>(gy.data<T>(), plan, scale, gx.data<T>());
  const Tensor gyd = gy.to(kGpu);
  Tensor gxd = poisoned(x.shape(), dt);
  kernels::sum_backward_cuda<T>(gyd.data<T>(), plan, scale, gxd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(gxd, gx, 0, 0);  // a cast of the same double product
}

template <class F>
void check_autograd(const F& f, const Tensor& x, uint64_t seed, double tol) {
  Variable xc(x, true);
  Variable yc = f(xc);
  const Tensor seed_c = test::random_uniform(yc.shape(), seed, -1, 1, x.dtype());
  backward(yc, seed_c);
  Variable xg(x.to(kGpu), true);
  Variable yg = f(xg);
  REQUIRE(yg.device() == kGpu);
  REQUIRE(yg.shape() == yc.shape());
  ASN_REQUIRE_CLOSE(yg.value(), yc.value(), tol, tol);
  backward(yg, seed_c.to(kGpu));
  REQUIRE(xg.grad().device() == kGpu);
  ASN_REQUIRE_CLOSE(xg.grad(), xc.grad(), tol, tol);
}

// Values in {0, 1, 2, 3}: extremes are tied many times over.
Tensor tied(const Shape& s, uint64_t seed, DType dt) {
  Tensor x = test::random_uniform(s, seed, 0, 4, DType::f64);
  double* p = x.data<double>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = std::floor(p[i]);
  return x.to(dt);
}

}  // namespace

TEST_CASE("cuda reduce: sum kernels match the CPU (outputs poisoned)", "[cuda][reduce]") {
  uint64_t seed = 8100;
  for (const SumCase& c : sum_cases()) {
    INFO(c.name << " " << c.in.str());
    const Tensor x32 = test::random_uniform(c.in, ++seed, -1, 1, DType::f32);
    check_sum_kernels<float>(x32, c.axes, 1.0, ++seed, 1e-5);
    check_sum_kernels<float>(x32, c.axes, 0.37, ++seed, 1e-5);
    const Tensor x64 = test::random_uniform(c.in, ++seed, -1, 1, DType::f64);
    check_sum_kernels<double>(x64, c.axes, 1.0, ++seed, 1e-12);
  }
}

TEST_CASE("cuda reduce: sum and mean autograd equal the CPU's", "[cuda][reduce]") {
  uint64_t seed = 8300;
  for (const SumCase& c : sum_cases()) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(c.name << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      const Tensor x = test::random_uniform(c.in, ++seed, -1, 1, dt);
      check_autograd([&](const Variable& v) { return sum(v, c.axes); }, x, ++seed, tol);
      check_autograd([&](const Variable& v) { return mean(v, c.axes, true); }, x, ++seed, tol);
    }
  }
}

TEST_CASE("cuda reduce: whole-tensor min and max, values and tie-split gradients",
          "[cuda][reduce]") {
  uint64_t seed = 8500;
  for (int64_t n : {1, 31, 8192, 8193, 100003}) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO("n = " << n << " " << dtype_name(dt));
      const Tensor x = test::random_uniform(Shape{n}, ++seed, -5, 5, dt);
      check_autograd([](const Variable& v) { return reduce_max(v); }, x, ++seed, 0);
      check_autograd([](const Variable& v) { return reduce_min(v); }, x, ++seed, 0);
      // Ties: the gradient is split equally among every element equal to the extreme.
      const Tensor t = tied(Shape{n}, ++seed, dt);
      check_autograd([](const Variable& v) { return reduce_max(v); }, t, ++seed, 1e-15);
      check_autograd([](const Variable& v) { return reduce_min(v); }, t, ++seed, 1e-15);
    }
  }
}

TEST_CASE("cuda reduce: min and max along one axis, values and tie-split gradients",
          "[cuda][reduce]") {
  uint64_t seed = 8700;
  struct AxisCase {
    Shape in;
    int axis;
  };
  const std::vector<AxisCase> cs = {{Shape{2, 3, 5, 7, 4}, 4}, {Shape{2, 3, 5, 7, 4}, 1},
                                    {Shape{2, 3, 5, 7, 4}, 0}, {Shape{3, 1, 5}, 1},
                                    {Shape{2, 200, 33}, 1},    {Shape{5000, 3}, 0},
                                    {Shape{4, 129}, -1}};
  for (const AxisCase& c : cs) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(c.in.str() << " axis " << c.axis << " " << dtype_name(dt));
      const Tensor x = test::random_uniform(c.in, ++seed, -5, 5, dt);
      check_autograd([&](const Variable& v) { return reduce_max(v, c.axis); }, x, ++seed, 0);
      check_autograd([&](const Variable& v) { return reduce_min(v, c.axis, true); }, x, ++seed, 0);
      const Tensor t = tied(c.in, ++seed, dt);
      check_autograd([&](const Variable& v) { return reduce_max(v, c.axis, true); }, t, ++seed,
                     1e-15);
      check_autograd([&](const Variable& v) { return reduce_min(v, c.axis); }, t, ++seed, 1e-15);
    }
  }
}

TEST_CASE("cuda reduce: extreme kernels write every output (poisoned) and NaN propagates",
          "[cuda][reduce]") {
  const Tensor x = test::random_uniform(Shape{6, 70, 9}, 8900, -1, 1, DType::f32);
  Tensor y = Tensor::empty(Shape{6, 9}, DType::f32);
  kernels::extreme_axis_forward_cpu<float>(x.data<float>(), 6, 70, 9, Extreme::max,
                                           y.data<float>());
  const Tensor xd = x.to(kGpu);
  Tensor yd = poisoned(Shape{6, 9}, DType::f32);
  kernels::extreme_axis_forward_cuda<float>(xd.data<float>(), 6, 70, 9, Extreme::max,
                                            yd.data<float>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, 0, 0);
  const Tensor gy = test::random_uniform(Shape{6, 9}, 8901, -1, 1, DType::f32);
  Tensor gx = Tensor::empty(x.shape(), DType::f32);
  kernels::extreme_axis_backward_cpu<float>(x.data<float>(), 6, 70, 9, y.data<float>(),
                                            gy.data<float>(), gx.data<float>());
  const Tensor gyd = gy.to(kGpu);
  Tensor gxd = poisoned(x.shape(), DType::f32);
  kernels::extreme_axis_backward_cuda<float>(xd.data<float>(), 6, 70, 9, yd.data<float>(),
                                             gyd.data<float>(), gxd.data<float>(), 0);
  ASN_REQUIRE_CLOSE(gxd, gx, 0, 0);

  Tensor all = poisoned(Shape{1}, DType::f32);
  kernels::extreme_all_forward_cuda<float>(xd.data<float>(), x.numel(), Extreme::min,
                                           all.data<float>(), 0);
  Tensor all_c = Tensor::empty(Shape{1}, DType::f32);
  kernels::extreme_all_forward_cpu<float>(x.data<float>(), x.numel(), Extreme::min,
                                          all_c.data<float>());
  ASN_REQUIRE_CLOSE(all, all_c, 0, 0);

  // A NaN anywhere makes the whole-tensor result NaN; the gradient is then zero everywhere.
  Tensor xn = test::random_uniform(Shape{20000}, 8902, -1, 1, DType::f32);
  xn.data<float>()[12345] = NAN;
  Variable v(xn.to(kGpu), true);
  Variable m = reduce_max(v);
  REQUIRE(std::isnan(m.value().item()));
  backward(m);
  for (float g : v.grad().to_vector<float>()) REQUIRE(g == 0.0f);
  Variable ma = reduce_min(Variable(xn.reshape(Shape{200, 100}).to(kGpu)), 0);
  const std::vector<float> col = ma.value().to_vector<float>();
  REQUIRE(std::isnan(col[12345 % 100]));
  REQUIRE_FALSE(std::isnan(col[(12345 + 1) % 100]));
}
