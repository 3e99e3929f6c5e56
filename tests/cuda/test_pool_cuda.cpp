// max_pool3d / avg_pool3d on CUDA against the CPU: the kernels with NaN-poisoned outputs over a
// table of geometries (TF SAME asymmetric pads, VALID, stride > kernel, temporal windows, T = 1,
// explicit pads, a tensor large enough for the grid-stride loop), argmax and the first-index tie
// rule on integer-valued inputs, padding never winning on all-negative inputs, and the autograd
// functions' forward and backward on both devices.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/pool.h"
#include "autograd/tape.h"
#include "kernels/pool/avg_pool3d.h"
#include "kernels/pool/max_pool3d.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;
using kernels::AxisPad;
using kernels::Pool3dGeometry;
using kernels::Pool3dParams;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

struct Case {
  std::string name;
  Shape in;
  Pool3dParams params;
};

Pool3dParams same(const Shape& in, std::array<int64_t, 3> k, std::array<int64_t, 3> s) {
  return Pool3dParams::same(k, s, {in[1], in[2], in[3]});
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  auto add = [&](const std::string& n, Shape in, std::array<int64_t, 3> k,
                 std::array<int64_t, 3> s) {
    cs.push_back({n, in, same(in, k, s)});
  };
  add("3x3/2 SAME on 7 (pad 1/1)", Shape{2, 1, 7, 7, 3}, {1, 3, 3}, {1, 2, 2});
  add("3x3/2 SAME on 8 (pad 0/1)", Shape{1, 2, 8, 8, 5}, {1, 3, 3}, {1, 2, 2});
  add("4x4/4 SAME on 9 (pad 1/2)", Shape{1, 2, 9, 9, 4}, {1, 4, 4}, {1, 4, 4});
  add("resize pool 3x3/3 SAME on 7x8", Shape{1, 1, 7, 8, 5}, {1, 3, 3}, {1, 3, 3});
  add("stride > kernel SAME", Shape{1, 1, 9, 8, 2}, {1, 2, 2}, {1, 3, 3});
  add("temporal 3x2x2 / 2x2x1 SAME", Shape{2, 5, 6, 5, 3}, {3, 2, 2}, {2, 2, 1});
  add("T = 1, 1x1 grid, C = 1", Shape{3, 1, 1, 1, 1}, {1, 3, 3}, {1, 2, 2});
  add("stem-like 3x3/2 SAME, many blocks", Shape{2, 3, 37, 41, 19}, {1, 3, 3}, {1, 2, 2});
  cs.push_back(
      {"stride > kernel VALID", Shape{1, 1, 9, 8, 2}, Pool3dParams::valid({1, 2, 2}, {1, 3, 3})});
  Pool3dParams pads = Pool3dParams::valid({2, 3, 3}, {1, 2, 1});
  pads.pad[0] = AxisPad{1, 0};
  pads.pad[1] = AxisPad{2, 1};
  pads.pad[2] = AxisPad{0, 2};
  cs.push_back({"explicit asymmetric pads", Shape{2, 3, 5, 4, 3}, pads});
  return cs;
}


// The kernels on both devices, CUDA outputs poisoned with NaN (argmax with -1) before the launch:
// max pool and its argmax must equal the CPU's exactly; avg pool within `avg_tol`; both
// backwards with the same random gy.
template <class T>
void check_kernels(const Tensor& x, const Pool3dParams& params, uint64_t grad_seed,
                   double avg_tol) {
  const DType dt = x.dtype();
  const Pool3dGeometry g = kernels::make_pool3d_geometry("test", x, params);
  const Shape out = kernels::pool3d_output_shape(g);
  const Tensor xd = x.to(kGpu);
  const Tensor gy = test::random_uniform(out, grad_seed, -1, 1, dt);
  const Tensor gyd = gy.to(kGpu);

  // max pool forward: values and argmax.
  Tensor y = Tensor::empty(out, dt);
  Tensor am = Tensor::empty(out, DType::i32);
  kernels::max_pool3d_forward_cpu<T>(x.data<T>(), g, y.data<T>(), am.data<int32_t>());
  Tensor yd = poisoned(out, dt);
  Tensor amd = Tensor::full(out, -1, DType::i32, kGpu);
  kernels::max_pool3d_forward_cuda<T>(xd.data<T>(), g, yd.data<T>(), amd.data<int32_t>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, 0, 0);
  REQUIRE(amd.to_vector<int32_t>() == am.to_vector<int32_t>());
  // Without argmax (inference) the values are the same.
  Tensor yd2 = poisoned(out, dt);
  kernels::max_pool3d_forward_cuda<T>(xd.data<T>(), g, yd2.data<T>(), nullptr, 0);
  ASN_REQUIRE_CLOSE(yd2, y, 0, 0);

  // max pool backward: the gather adds the same values in the same order as the CPU.
  Tensor gx = Tensor::empty(x.shape(), dt);
  kernels::max_pool3d_backward_cpu<T>(gy.data<T>(), am.data<int32_t>(), g, gx.data<T>());
  Tensor gxd = poisoned(x.shape(), dt);
  kernels::max_pool3d_backward_cuda<T>(gyd.data<T>(), amd.data<int32_t>(), g, gxd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(gxd, gx, 0, 0);

  // avg pool forward and backward (double sums in the CPU's order).
  Tensor ya = Tensor::empty(out, dt);
  kernels::avg_pool3d_forward_cpu<T>(x.data<T>(), g, ya.data<T>());
  Tensor yad = poisoned(out, dt);
  kernels::avg_pool3d_forward_cuda<T>(xd.data<T>(), g, yad.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yad, ya, avg_tol, avg_tol);
  Tensor gxa = Tensor::empty(x.shape(), dt);
  kernels::avg_pool3d_backward_cpu<T>(gy.data<T>(), g, gxa.data<T>());
  Tensor gxad = poisoned(x.shape(), dt);
  kernels::avg_pool3d_backward_cuda<T>(gyd.data<T>(), g, gxad.data<T>(), 0);
  ASN_REQUIRE_CLOSE(gxad, gxa, avg_tol, avg_tol);
}

// The autograd function on both devices: forward values and the input gradient for one seed.
template <class F>
void check_autograd(const F& f, const Tensor& x, uint64_t seed, double tol) {
  Variable xc(x, true);
  Variable yc = f(xc);
  const Tensor seed_c = test::random_uniform(yc.shape(), seed, -1, 1, x.dtype());
  backward(yc, seed_c);
  Variable xg(x.to(kGpu), true);
  Variable yg = f(xg);
  REQUIRE(yg.device() == kGpu);
  ASN_REQUIRE_CLOSE(yg.value(), yc.value(), tol, tol);
  backward(yg, seed_c.to(kGpu));
  REQUIRE(xg.grad().device() == kGpu);
  ASN_REQUIRE_CLOSE(xg.grad(), xc.grad(), tol, tol);
}

}  // namespace

TEST_CASE("cuda pool: kernels match the CPU on random inputs (outputs poisoned)", "[cuda][pool]") {
  uint64_t seed = 7100;
  for (const Case& c : cases()) {
    INFO(c.name << " " << c.params.str());
    const Tensor x32 = test::random_uniform(c.in, ++seed, -2, 2, DType::f32);
    check_kernels<float>(x32, c.params, ++seed, 1e-6);
    const Tensor x64 = test::random_uniform(c.in, ++seed, -2, 2, DType::f64);
    check_kernels<double>(x64, c.params, ++seed, 1e-12);
  }
}

TEST_CASE("cuda pool: first-index tie rule and argmax on integer-valued inputs", "[cuda][pool]") {
  uint64_t seed = 7300;
  for (const Case& c : cases()) {
    INFO(c.name);
    // Values in {0, 1, 2}: most windows hold ties, so the argmax shows the scan-order rule.
    Tensor x = test::random_uniform(c.in, ++seed, 0, 3, DType::f32);
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = std::floor(p[i]);
    check_kernels<float>(x, c.params, ++seed, 1e-6);
  }
}

TEST_CASE("cuda pool: padding never wins (all-negative inputs)", "[cuda][pool]") {
  uint64_t seed = 7500;
  for (const Case& c : cases()) {
    INFO(c.name);
    const Tensor x = test::random_uniform(c.in, ++seed, -3, -1, DType::f32);
    check_kernels<float>(x, c.params, ++seed, 1e-6);
  }
}

TEST_CASE("cuda pool: autograd forward and backward equal the CPU's", "[cuda][pool]") {
  uint64_t seed = 7700;
  for (const Case& c : cases()) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(c.name << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
      // Distinct values: no ties, so the max-pool gradient is unambiguous.
      const Tensor x = test::random_distinct(c.in, ++seed, 0.01, dt);
      check_autograd([&](const Variable& v) { return max_pool3d(v, c.params); }, x, ++seed, tol);
      check_autograd([&](const Variable& v) { return avg_pool3d(v, c.params); }, x, ++seed, tol);
    }
  }
}
