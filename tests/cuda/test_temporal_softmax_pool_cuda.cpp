// temporal_softmax_pool on CUDA against the CPU: the kernels with NaN-poisoned outputs at odd
// sizes (T = 1, K = 1, many columns for the grid-stride loop, large logits where the max shift
// matters), f32 and f64; the autograd function on both devices; and the error for a CUDA input
// in the wrong rank naming the op and the device.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/temporal_softmax_pool.h"
#include "autograd/tape.h"
#include "kernels/head/temporal_softmax_pool.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {


struct TspCase {
  int64_t N, T, K;
  double scale;  // logits uniform in [-scale, scale)
};

const std::vector<TspCase> kCases = {{2, 5, 3, 3},   {1, 1, 4, 3},     {3, 2, 1, 3},
                                     {4, 8, 157, 3}, {2, 32, 400, 60}, {1, 7, 70000, 5}};

template <class T>
void check_kernels(const TspCase& c, uint64_t seed, double tol) {
  const DType dt = dtype_of<T>();
  const double tau = std::sqrt(static_cast<double>(c.T));
  const Tensor z = test::random_uniform(Shape{c.N, c.T, c.K}, seed, -c.scale, c.scale, dt);
  const Tensor dy = test::random_uniform(Shape{c.N, c.K}, seed + 1, -1, 1, dt);
  Tensor y = Tensor::empty(Shape{c.N, c.K}, dt), dz = Tensor::empty(z.shape(), dt);
  kernels::temporal_softmax_pool_forward_cpu<T>(z.data<T>(), c.N, c.T, c.K, tau, y.data<T>());
  kernels::temporal_softmax_pool_backward_cpu<T>(z.data<T>(), y.data<T>(), dy.data<T>(), c.N, c.T,
                                                 c.K, tau, dz.data<T>());
  const Tensor zd = z.to(kGpu), dyd = dy.to(kGpu), yc = y.to(kGpu);
  Tensor yd = poisoned(y.shape(), dt), dzd = poisoned(z.shape(), dt);
  kernels::temporal_softmax_pool_forward_cuda<T>(zd.data<T>(), c.N, c.T, c.K, tau, yd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, tol, tol);
  // Backward from the CPU's y, so only the backward arithmetic is compared.
  kernels::temporal_softmax_pool_backward_cuda<T>(zd.data<T>(), yc.data<T>(), dyd.data<T>(), c.N,
                                                  c.T, c.K, tau, dzd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(dzd, dz, tol, tol);
}

}  // namespace

TEST_CASE("cuda temporal_softmax_pool: kernels match the CPU (outputs poisoned)", "[cuda][head]") {
  uint64_t seed = 40100;
  for (const TspCase& c : kCases) {
    INFO("N " << c.N << " T " << c.T << " K " << c.K << " scale " << c.scale);
    // Double accumulation on both devices: f32 differs only by the final rounding and exp's ulps.
    check_kernels<float>(c, seed, 1e-6);
    check_kernels<double>(c, seed, 1e-12);
    seed += 10;
  }
}

TEST_CASE("cuda temporal_softmax_pool: autograd equals the CPU's", "[cuda][head]") {
  uint64_t seed = 40500;
  for (const Shape& s : {Shape{2, 5, 3}, Shape{3, 1, 11}, Shape{4, 8, 101}}) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(s.str() << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
      const Tensor z = test::random_uniform(s, ++seed, -3, 3, dt);
      const Tensor g = test::random_uniform(Shape{s[0], s[2]}, ++seed, -1, 1, dt);
      auto run = [&](Device dev, ag::Variable& leaf) {
        ag::tape().clear();
        leaf = ag::Variable(z.to(dev), true);
        ag::Variable y = ag::temporal_softmax_pool(leaf);
        ag::backward(y, g.to(dev));
        return y.value();
      };
      ag::Variable zc, zg;
      const Tensor yc = run(Device::cpu(), zc);
      const Tensor yg = run(kGpu, zg);
      REQUIRE(yg.device() == kGpu);
      REQUIRE(zg.grad().device() == kGpu);
      ASN_REQUIRE_CLOSE(yg, yc, tol, tol);
      ASN_REQUIRE_CLOSE(zg.grad(), zc.grad(), tol, tol);
    }
  }
}

TEST_CASE("cuda temporal_softmax_pool: a CUDA input of the wrong rank names the op and device",
          "[cuda][head]") {
  ag::Variable bad(Tensor::zeros(Shape{2, 3}, DType::f32, kGpu));
  REQUIRE_THROWS_WITH(ag::temporal_softmax_pool(bad), Catch::Contains("temporal_softmax_pool") &&
                                                          Catch::Contains("(2, 3)") &&
                                                          Catch::Contains("cuda:0"));
}
