// conv3d: forward against the nested-loop oracle (f32 and f64) over a table of cases covering odd
// sizes, T = 1, every kernel shape the networks use (3x3x3, 1x3x3, 3x1x1, 1x1x1, 1x7x7), an even
// kernel, strides, dilations and every padding rule; backward by gradcheck (f64) and against the
// oracle's scatter loops on larger cases (several threads' chunks and column tiles); the 1x1x1
// GEMM fast paths; padding helpers; and the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/functions/conv3d.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "engine/parallel.h"
#include "kernels/conv/conv3d.h"
#include "tests/oracles/conv3d_case.h"
#include "kernels/conv/conv_gemm.h"
#include "kernels/dispatch.h"
#include "tests/oracles/conv3d_oracle.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::kernels;

namespace {

using test::max_abs;

using Case = test::ConvCase;
using test::k1;
using test::Pad;

const std::vector<Case>& forward_cases() { return test::conv3d_table(); }

Tensor run_forward(const Tensor& x, const Tensor& w, const Conv3dParams& p) {
  ag::NoGradGuard no_grad;
  return ag::conv3d(ag::Variable(x), ag::Variable(w), p).value();
}

}  // namespace

TEST_CASE("conv3d: forward matches the oracle (f64 and f32)", "[conv3d]") {
  uint64_t seed = 100;
  for (const Case& c : forward_cases()) {
    DYNAMIC_SECTION(c.name) {
      const Conv3dParams p = c.params();
      INFO("x " << c.x.str() << " w " << c.w.str() << " " << p.str());
      const Tensor x = test::random_uniform(c.x, seed + 1);
      const Tensor w = test::random_uniform(c.w, seed + 2);
      const Tensor ref = test::conv3d_oracle(x, w, p);
      const double scale = max_abs(ref);
      REQUIRE(scale > 0);
      ASN_REQUIRE_CLOSE(run_forward(x, w, p), ref, 1e-12, 1e-12 * scale);

      // f32: the same (rounded) values, compared with the oracle on exactly those values.
      const Tensor x32 = x.to(DType::f32), w32 = w.to(DType::f32);
      const Tensor ref32 = test::conv3d_oracle(x32, w32, p);
      const Tensor y32 = run_forward(x32, w32, p);
      REQUIRE(y32.dtype() == DType::f32);
      ASN_REQUIRE_CLOSE(y32, ref32, 1e-5, 1e-5 * scale);
    }
    seed += 10;
  }
}

TEST_CASE("conv3d: output shapes of the padding rules", "[conv3d]") {
  // SAME 3x3 stride 2 on 224 pads 0/1 -> 112; fixed pads 1/1 -> 112 too.
  Conv3dParams s = Conv3dParams::same({1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {8, 224, 224});
  REQUIRE(s.pad[1].before == 0);
  REQUIRE(s.pad[1].after == 1);
  REQUIRE(s.output_shape({1, 8, 224, 224, 3}, {24, 1, 3, 3, 3}) == Shape{1, 8, 112, 112, 24});
  Conv3dParams f = Conv3dParams::fixed({1, 7, 7}, {1, 2, 2}, {1, 1, 1}, {8, 224, 224});
  REQUIRE(f.pad[1].before == 3);
  REQUIRE(f.pad[1].after == 3);
  REQUIRE(f.pad[0].before == 0);
  REQUIRE(f.output_shape({1, 8, 224, 224, 3}, {32, 1, 7, 7, 3}) == Shape{1, 8, 112, 112, 32});
  // fixed with stride 1 is SAME (even kernel: 0/1 like TF).
  Conv3dParams f1 = Conv3dParams::fixed({2, 3, 3}, {1, 1, 1}, {1, 1, 1}, {8, 56, 56});
  REQUIRE(f1.pad[0].before == 0);
  REQUIRE(f1.pad[0].after == 1);
  REQUIRE(f1.pad[1].before == 1);
  // Temporal dilation 4, SAME: symmetric (k-1)d/2 = 4.
  Conv3dParams d = Conv3dParams::same({3, 1, 1}, {1, 1, 1}, {4, 1, 1}, {8, 56, 56});
  REQUIRE(d.pad[0].before == 4);
  REQUIRE(d.pad[0].after == 4);
  REQUIRE(d.output_shape({2, 8, 56, 56, 64}, {64, 3, 1, 1, 64}) == Shape{2, 8, 56, 56, 64});
  // VALID: out = (n - ((k-1)d+1)) / s + 1.
  Conv3dParams v = Conv3dParams::valid({2, 1, 3}, {1, 2, 1});
  REQUIRE(v.output_shape({1, 9, 10, 11, 2}, {3, 3, 3, 2, 2}) == Shape{1, 4, 6, 4, 3});
}

TEST_CASE("conv3d: gradcheck of input and kernel (f64)", "[conv3d]") {
  // A subset of the forward cases, small enough for finite differences over every element.
  // clang-format off
  const std::vector<Case> cases = {
      {"odd sizes 3x3x3 SAME", {2, 3, 5, 4, 2}, {3, 3, 3, 3, 2}, k1, k1, Pad::Same, {}},
      {"T=1 1x3x3 SAME", {2, 1, 5, 4, 3}, {2, 1, 3, 3, 3}, k1, k1, Pad::Same, {}},
      {"pointwise 1x1x1", {2, 3, 3, 5, 3}, {4, 1, 1, 1, 3}, k1, k1, Pad::Valid, {}},
      {"pointwise 1x1x1 stride 2", {1, 3, 5, 5, 3}, {2, 1, 1, 1, 3}, {2, 2, 2}, k1, Pad::Same, {}},
      {"even kernel 2x2x2 SAME", {1, 3, 4, 5, 2}, {3, 2, 2, 2, 2}, k1, k1, Pad::Same, {}},
      {"3x3x3 stride 2 on T/H/W SAME", {1, 5, 6, 5, 2}, {2, 3, 3, 3, 2}, {2, 2, 2}, k1, Pad::Same,
       {}},
      {"1x5x5 stride 2 fixed", {1, 2, 9, 8, 2}, {2, 1, 5, 5, 2}, {1, 2, 2}, k1, Pad::Fixed, {}},
      {"temporal 3x1x1 dilation 2", {2, 7, 3, 2, 3}, {3, 3, 1, 1, 3}, k1, {2, 1, 1}, Pad::Same, {}},
      {"1x3x3 spatial dilation 2", {1, 2, 7, 6, 2}, {2, 1, 3, 3, 2}, k1, {1, 2, 2}, Pad::Same, {}},
      {"explicit asymmetric padding 2/0", {1, 3, 5, 4, 2}, {2, 2, 3, 2, 2}, {1, 1, 2}, k1,
       Pad::Explicit, {{{2, 0}, {0, 2}, {1, 0}}}},
  };
  // clang-format on
  uint64_t seed = 500;
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const Conv3dParams p = c.params();
      INFO("x " << c.x.str() << " w " << c.w.str() << " " << p.str());
      const Tensor x = test::random_uniform(c.x, seed + 1);
      const Tensor w = test::random_uniform(c.w, seed + 2);
      ag::GradcheckResult r = ag::gradcheck(
          [&p](const std::vector<ag::Variable>& v) { return ag::conv3d(v[0], v[1], p); }, {x, w});
      INFO(r.report);
      REQUIRE(r.ok);
    }
    seed += 10;
  }
}

TEST_CASE("conv3d: backward matches the oracle on multi-chunk, multi-tile cases", "[conv3d]") {
  // Big enough that every thread gets a chunk of several column tiles, so the per-chunk scatter
  // buffers and the ordered sums are exercised; also checked with 1 and 3 threads.
  // clang-format off
  const std::vector<Case> cases = {
      forward_cases()[20],
      forward_cases()[21],
      {"stem 1x7x7 stride 2 fixed", {1, 3, 30, 29, 3}, {4, 1, 7, 7, 3}, {1, 2, 2}, k1, Pad::Fixed,
       {}},
      {"pointwise 1x1x1", {2, 3, 9, 10, 5}, {7, 1, 1, 1, 5}, k1, k1, Pad::Valid, {}},
      {"pointwise 1x1x1 stride 2", {2, 3, 9, 10, 5}, {7, 1, 1, 1, 5}, {1, 2, 2}, k1, Pad::Same, {}},
  };
  // clang-format on
  const int saved_threads = num_threads();
  uint64_t seed = 900;
  for (const Case& c : cases) {
    for (int threads : {1, 2, 3}) {
      DYNAMIC_SECTION(c.name << ", " << threads << " threads") {
        set_num_threads(threads);
        const Conv3dParams p = c.params();
        const Tensor x = test::random_uniform(c.x, seed + 1);
        const Tensor w = test::random_uniform(c.w, seed + 2);
        const Tensor dy = test::random_uniform(p.output_shape(c.x, c.w), seed + 3);
        Tensor dx_ref, dw_ref;
        test::conv3d_backward_oracle(x, w, dy, p, dx_ref, dw_ref);

        for (DType dt : {DType::f64, DType::f32}) {
          const double rtol = dt == DType::f64 ? 1e-12 : 1e-5;
          const Tensor xd = x.to(dt), wd = w.to(dt), dyd = dy.to(dt);
          Tensor ref_x = dx_ref, ref_w = dw_ref;
          if (dt == DType::f32) test::conv3d_backward_oracle(xd, wd, dyd, p, ref_x, ref_w);
          ag::tape().clear();
          ag::Variable xv(xd, true, "x"), wv(wd, true, "w");
          ag::backward(ag::conv3d(xv, wv, p), dyd);
          INFO("dtype " << dtype_name(dt));
          ASN_REQUIRE_CLOSE(xv.grad(), ref_x, rtol, rtol * max_abs(ref_x));
          ASN_REQUIRE_CLOSE(wv.grad(), ref_w, rtol, rtol * max_abs(ref_w));
        }
        set_num_threads(saved_threads);
      }
    }
    seed += 10;
  }
  set_num_threads(saved_threads);
}

TEST_CASE("conv3d: only the needed gradients are computed, results are deterministic", "[conv3d]") {
  const Case& c = forward_cases()[20];
  const Conv3dParams p = c.params();
  const Tensor x = test::random_uniform(c.x, 71, -1, 1, DType::f32);
  const Tensor w = test::random_uniform(c.w, 72, -1, 1, DType::f32);
  const Tensor dy = test::random_uniform(p.output_shape(c.x, c.w), 73, -1, 1, DType::f32);

  ag::tape().clear();
  ag::Variable xv(x, false), wv(w, true);
  ag::backward(ag::conv3d(xv, wv, p), dy);
  REQUIRE_FALSE(xv.has_grad());
  REQUIRE(wv.has_grad());

  // Same inputs, same thread count: bitwise the same forward and gradients.
  auto grads = [&]() {
    ag::tape().clear();
    ag::Variable a(x, true), b(w, true);
    ag::Variable y = ag::conv3d(a, b, p);
    ag::backward(y, dy);
    return std::vector<std::vector<float>>{
        y.value().to_vector<float>(), a.grad().to_vector<float>(), b.grad().to_vector<float>()};
  };
  const auto g1 = grads();
  const auto g2 = grads();
  REQUIRE(g1 == g2);
  REQUIRE(g1[2] == wv.grad().to_vector<float>());
}

TEST_CASE("conv3d: the tile GEMM matches a naive product at every edge shape", "[conv3d]") {
  // C (m, n) (+)= op(A) (m, k) * B (k, n): row tails of the 6- and 12-row micro-kernels, column
  // tails of the 16-lane masks and of the 32/64-wide panels, both A layouts, both dtypes, with
  // and without accumulation; with the AVX-512 kernels (when built) and with OpenBLAS.
  auto check = [](DType dt) {
    for (int64_t m : {1, 5, 6, 7, 12, 13, 25}) {
      for (int64_t n : {1, 15, 16, 17, 32, 33, 64, 65, 130}) {
        for (int64_t k : {1, 3, 64}) {
          for (bool trans_a : {false, true}) {
            for (bool acc : {false, true}) {
              INFO("m " << m << " n " << n << " k " << k << " trans_a " << trans_a << " acc " << acc
                        << " " << dtype_name(dt));
              const int64_t lda = (trans_a ? m : k) + 3, ldb = n + 2, ldc = n + 1;
              const Tensor a = test::random_uniform({trans_a ? k : m, lda}, 11, -1, 1, dt);
              const Tensor b = test::random_uniform({k, ldb}, 12, -1, 1, dt);
              const Tensor c0 = test::random_uniform({m, ldc}, 13, -1, 1, dt);
              const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
              std::vector<double> ref = c0.to_vector<double>();
              for (int64_t i = 0; i < m; ++i) {
                for (int64_t j = 0; j < n; ++j) {
                  double sum = acc ? ref[static_cast<size_t>(i * ldc + j)] : 0.0;
                  for (int64_t q = 0; q < k; ++q) {
                    const double aiq = trans_a ? av[static_cast<size_t>(q * lda + i)]
                                               : av[static_cast<size_t>(i * lda + q)];
                    sum += aiq * bv[static_cast<size_t>(q * ldb + j)];
                  }
                  ref[static_cast<size_t>(i * ldc + j)] = sum;  // padding columns keep c0
                }
              }
              Tensor c = c0.clone();
              dispatch_float("test", dt, [&](auto tag) {
                using T = decltype(tag);
                conv_gemm<T>(trans_a, m, n, k, a.data<T>(), lda, b.data<T>(), ldb, c.data<T>(), ldc,
                             acc);
              });
              const double rtol = dt == DType::f64 ? 1e-13 : 1e-5;
              ASN_REQUIRE_CLOSE(c, Tensor::from_vector<double>(c0.shape(), ref), rtol, rtol * k);
            }
          }
        }
      }
    }
  };
  check(DType::f64);
  check(DType::f32);
  {
    ConvGemmForceBlas blas;
    REQUIRE_FALSE(conv_gemm_uses_avx512());
    check(DType::f32);
  }
}

TEST_CASE("conv3d: f32 through OpenBLAS (the path of machines without AVX-512)", "[conv3d]") {
  ConvGemmForceBlas blas;
  const auto& all = forward_cases();
  for (size_t i : {size_t{0}, size_t{4}, size_t{8}, size_t{16}, size_t{20}, size_t{21}}) {
    const Case& c = all[i];
    DYNAMIC_SECTION(c.name) {
      const Conv3dParams p = c.params();
      const Tensor x = test::random_uniform(c.x, 31, -1, 1, DType::f32);
      const Tensor w = test::random_uniform(c.w, 32, -1, 1, DType::f32);
      const Tensor dy = test::random_uniform(p.output_shape(c.x, c.w), 33, -1, 1, DType::f32);
      const Tensor ref = test::conv3d_oracle(x, w, p);
      ASN_REQUIRE_CLOSE(run_forward(x, w, p), ref, 1e-5, 1e-5 * max_abs(ref));
      Tensor dx_ref, dw_ref;
      test::conv3d_backward_oracle(x, w, dy, p, dx_ref, dw_ref);
      ag::tape().clear();
      ag::Variable xv(x, true), wv(w, true);
      ag::backward(ag::conv3d(xv, wv, p), dy);
      ASN_REQUIRE_CLOSE(xv.grad(), dx_ref, 1e-5, 1e-5 * max_abs(dx_ref));
      ASN_REQUIRE_CLOSE(wv.grad(), dw_ref, 1e-5, 1e-5 * max_abs(dw_ref));
    }
  }
}

TEST_CASE("conv3d: argument errors name the op and the shapes", "[conv3d]") {
  using Catch::Contains;
  const Conv3dParams same3 = Conv3dParams::same({3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {4, 5, 5});
  const ag::Variable x(Tensor::zeros({2, 4, 5, 5, 3}));
  const ag::Variable w(Tensor::zeros({8, 3, 3, 3, 3}));

  // Wrong rank of the input and of the kernel.
  const ag::Variable x4(Tensor::zeros({2, 5, 5, 3}));
  REQUIRE_THROWS_AS(ag::conv3d(x4, w, same3), ShapeError);
  REQUIRE_THROWS_WITH(ag::conv3d(x4, w, same3),
                      Contains("conv3d") && Contains("rank 5") && Contains("(2, 5, 5, 3)"));
  const ag::Variable w4(Tensor::zeros({8, 3, 3, 3}));
  REQUIRE_THROWS_WITH(ag::conv3d(x, w4, same3),
                      Contains("conv3d") && Contains("kernel") && Contains("(8, 3, 3, 3)"));

  // Input channels disagree.
  const ag::Variable w5(Tensor::zeros({8, 3, 3, 3, 5}));
  REQUIRE_THROWS_AS(ag::conv3d(x, w5, same3), ShapeError);
  REQUIRE_THROWS_WITH(ag::conv3d(x, w5, same3), Contains("conv3d") && Contains("(2, 4, 5, 5, 3)") &&
                                                    Contains("(8, 3, 3, 3, 5)") &&
                                                    Contains("input channels (3 vs 5)"));

  // f32 input with an f64 kernel.
  const ag::Variable w64(Tensor::zeros({8, 3, 3, 3, 3}, DType::f64));
  REQUIRE_THROWS_AS(ag::conv3d(x, w64, same3), TypeError);
  REQUIRE_THROWS_WITH(ag::conv3d(x, w64, same3), Contains("conv3d") &&
                                                     Contains("f32 (2, 4, 5, 5, 3)") &&
                                                     Contains("f64 (8, 3, 3, 3, 3)"));

  // Window larger than the padded input (VALID 3-tap on T = 2).
  const ag::Variable xs(Tensor::zeros({1, 2, 5, 5, 3}));
  REQUIRE_THROWS_AS(ag::conv3d(xs, w, Conv3dParams::valid()), ShapeError);
  REQUIRE_THROWS_WITH(ag::conv3d(xs, w, Conv3dParams::valid()),
                      Contains("conv3d") && Contains("larger than the padded input") &&
                          Contains("(1, 2, 5, 5, 3)") && Contains("(8, 3, 3, 3, 3)"));
  // Dilation makes it too large even with SAME-free explicit padding 1/1.
  Conv3dParams dil = Conv3dParams::valid({1, 1, 1}, {1, 4, 1});
  dil.pad[1] = AxisPad{1, 1};
  REQUIRE_THROWS_WITH(ag::conv3d(x, w, dil), Contains("conv3d") && Contains("along H"));

  // Stride 0 (and negative padding).
  Conv3dParams bad = same3;
  bad.stride[1] = 0;
  REQUIRE_THROWS_AS(ag::conv3d(x, w, bad), ValueError);
  REQUIRE_THROWS_WITH(ag::conv3d(x, w, bad), Contains("conv3d") && Contains("stride along H") &&
                                                 Contains("(2, 4, 5, 5, 3)") &&
                                                 Contains("(8, 3, 3, 3, 3)"));
  REQUIRE_THROWS_WITH(Conv3dParams::valid({1, 0, 1}), Contains("conv3d") && Contains("stride"));
  Conv3dParams neg = same3;
  neg.pad[2].after = -1;
  REQUIRE_THROWS_WITH(ag::conv3d(x, w, neg), Contains("conv3d") && Contains("padding along W"));

  // Non-floating input.
  const ag::Variable xi(Tensor::zeros({2, 4, 5, 5, 3}, DType::i32));
  REQUIRE_THROWS_WITH(ag::conv3d(xi, w, same3), Contains("conv3d") && Contains("f32 or f64"));
}
