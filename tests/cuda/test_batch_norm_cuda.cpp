// CUDA batch normalisation (and the fused BN + ReLU) against the CPU: training forward (output,
// saved mean / invstd, running-statistic updates), evaluation forward, and backward in both modes
// with every combination of wanted gradients, at the kernel level with NaN-poisoned outputs over
// channel counts that take every tiling (C = 1, 3, odd, > 256, packs and no packs, misaligned
// buffers) and row counts from 1 to 10^5; through autograd on (N, T, H, W, C) inputs including
// T = 1; bitwise reproducibility of repeated runs; errors for mixed devices; the memory-saving
// mode's rebuild of y (bitwise the forward's) and its gradients through conv -> BN-ReLU -> conv.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/batch_norm.h"
#include "autograd/functions/conv3d.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/runtime_flags.h"
#include "kernels/norm/batch_norm.h"
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

// docs/testing.md: CUDA f32 against CPU f32, reductions 1e-5; f64 far tighter.
template <class T>
double tol() {
  return sizeof(T) == 4 ? 1e-5 : 1e-10;
}


template <class T>
const T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* mptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// One kernel-level comparison: training forward (with and without running statistics),
// evaluation forward, then backward in both modes with all gradients, only dx, and no dx.
template <class T>
void check_kernels(int64_t M, int64_t C, bool relu, bool affine, int64_t misalign, uint64_t seed) {
  INFO("M " << M << " C " << C << " relu " << relu << " affine " << affine << " misalign "
            << misalign << " " << dtype_name(dtype_of<T>()));
  const DType dt = dtype_of<T>();
  const Shape sx{M, C}, sc{C};
  kernels::BatchNormParams p;
  p.rows = M;
  p.channels = C;
  p.eps = 1e-3;
  p.momentum = 0.9;
  p.relu = relu;
  // Not centred (mean about 3.5): exercises the shifted one-pass statistics.
  const Tensor x = test::random_uniform(sx, seed, 1.0, 6.0, dt);
  const Tensor gamma = affine ? test::random_uniform(sc, seed + 1, 0.5, 1.5, dt) : Tensor();
  const Tensor beta = affine ? test::random_uniform(sc, seed + 2, -0.5, 0.5, dt) : Tensor();
  const Tensor rm0 = test::random_uniform(sc, seed + 3, -1, 1, dt);
  const Tensor rv0 = test::random_uniform(sc, seed + 4, 0.5, 2, dt);
  const Tensor dy = test::random_uniform(sx, seed + 5, -1, 1, dt);
  const Tensor xd = on_gpu(x, misalign), dyd = on_gpu(dy, misalign);
  const Tensor gd = affine ? on_gpu(gamma) : Tensor(), bd = affine ? on_gpu(beta) : Tensor();

  // Training forward.
  Tensor y = Tensor::empty(sx, dt), mean = Tensor::empty(sc, dt), inv = Tensor::empty(sc, dt);
  Tensor rm = rm0.clone(), rv = rv0.clone();
  kernels::batch_norm_forward_train_cpu<T>(p, x.data<T>(), ptr<T>(gamma), ptr<T>(beta), y.data<T>(),
                                           mean.data<T>(), inv.data<T>(), rm.data<T>(),
                                           rv.data<T>());
  Tensor yd = poisoned(sx, dt, misalign), meand = poisoned(sc, dt), invd = poisoned(sc, dt);
  Tensor rmd = on_gpu(rm0), rvd = on_gpu(rv0);
  kernels::batch_norm_forward_train_cuda<T>(p, xd.data<T>(), ptr<T>(gd), ptr<T>(bd), yd.data<T>(),
                                            meand.data<T>(), invd.data<T>(), rmd.data<T>(),
                                            rvd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, tol<T>(), tol<T>());
  ASN_REQUIRE_CLOSE(meand, mean, tol<T>(), tol<T>());
  ASN_REQUIRE_CLOSE(invd, inv, tol<T>(), tol<T>());
  ASN_REQUIRE_CLOSE(rmd, rm, tol<T>(), tol<T>());
  ASN_REQUIRE_CLOSE(rvd, rv, tol<T>(), tol<T>());
  // Without running statistics (null pointers): same output.
  Tensor yd2 = poisoned(sx, dt, misalign);
  kernels::batch_norm_forward_train_cuda<T>(p, xd.data<T>(), ptr<T>(gd), ptr<T>(bd), yd2.data<T>(),
                                            poisoned(sc, dt).data<T>(), poisoned(sc, dt).data<T>(),
                                            nullptr, nullptr, 0);
  REQUIRE(bitwise_equal(yd2, yd));

  // Evaluation forward: the saved statistics are the running ones.
  Tensor ye = Tensor::empty(sx, dt), meane = Tensor::empty(sc, dt), inve = Tensor::empty(sc, dt);
  kernels::batch_norm_forward_eval_cpu<T>(p, x.data<T>(), ptr<T>(gamma), ptr<T>(beta),
                                          rm0.data<T>(), rv0.data<T>(), ye.data<T>(),
                                          meane.data<T>(), inve.data<T>());
  Tensor yed = poisoned(sx, dt, misalign), meaned = poisoned(sc, dt), inved = poisoned(sc, dt);
  kernels::batch_norm_forward_eval_cuda<T>(p, xd.data<T>(), ptr<T>(gd), ptr<T>(bd),
                                           on_gpu(rm0).data<T>(), on_gpu(rv0).data<T>(),
                                           yed.data<T>(), meaned.data<T>(), inved.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yed, ye, tol<T>(), tol<T>());
  REQUIRE(bitwise_equal(meaned, rm0));
  ASN_REQUIRE_CLOSE(inved, inve, tol<T>(), tol<T>());

  // Backward in both modes from identical inputs (the CPU forward's y, mean and invstd).
  for (bool training : {true, false}) {
    const Tensor& yb = training ? y : ye;
    const Tensor& mb = training ? mean : meane;
    const Tensor& ib = training ? inv : inve;
    const Tensor ybd = on_gpu(yb, misalign), mbd = on_gpu(mb), ibd = on_gpu(ib);
    for (int want = 0; want < 3; ++want) {  // 0: all, 1: dx only, 2: dgamma and dbeta only
      INFO("training " << training << " want " << want);
      const bool want_dx = want != 2, want_gb = want != 1 && affine;
      Tensor dx = want_dx ? Tensor::empty(sx, dt) : Tensor();
      Tensor dg = want_gb ? Tensor::empty(sc, dt) : Tensor();
      Tensor db = want_gb ? Tensor::empty(sc, dt) : Tensor();
      kernels::batch_norm_backward_cpu<T>(p, training, dy.data<T>(), x.data<T>(), yb.data<T>(),
                                          ptr<T>(gamma), mb.data<T>(), ib.data<T>(), mptr<T>(dx),
                                          mptr<T>(dg), mptr<T>(db));
      Tensor dxd = want_dx ? poisoned(sx, dt, misalign) : Tensor();
      Tensor dgd = want_gb ? poisoned(sc, dt) : Tensor();
      Tensor dbd = want_gb ? poisoned(sc, dt) : Tensor();
      kernels::batch_norm_backward_cuda<T>(p, training, dyd.data<T>(), xd.data<T>(), ybd.data<T>(),
                                           ptr<T>(gd), mbd.data<T>(), ibd.data<T>(), mptr<T>(dxd),
                                           mptr<T>(dgd), mptr<T>(dbd), 0);
      if (want_dx) ASN_REQUIRE_CLOSE(dxd, dx, tol<T>(), tol<T>());
      if (want_gb) {
        ASN_REQUIRE_CLOSE(dgd, dg, tol<T>(), tol<T>());
        ASN_REQUIRE_CLOSE(dbd, db, tol<T>(), tol<T>());
      }
    }
  }
}

// Everything one autograd BN call produces on one device.
struct BnRun {
  Tensor y, dx, dgamma, dbeta, running_mean, running_var;
};

BnRun run_bn(bool fused, Device dev, const Tensor& x, const Tensor& gamma, const Tensor& beta,
             const Tensor& rm, const Tensor& rv, const BatchNormOptions& opt, const Tensor& dy) {
  tape().clear();
  Variable vx(x.to(dev).clone(), true, "x");
  Variable vg = gamma.defined() ? Variable(gamma.to(dev).clone(), true, "gamma") : Variable();
  Variable vb = beta.defined() ? Variable(beta.to(dev).clone(), true, "beta") : Variable();
  Variable m(rm.to(dev).clone(), false, "running_mean"),
      v(rv.to(dev).clone(), false, "running_var");
  Variable y = fused ? batch_norm_relu(vx, vg, vb, m, v, opt) : batch_norm(vx, vg, vb, m, v, opt);
  backward(y, dy.to(dev));
  BnRun r;
  r.y = y.value();
  r.dx = vx.grad();
  if (vg.defined()) r.dgamma = vg.grad();
  if (vb.defined()) r.dbeta = vb.grad();
  r.running_mean = m.value();
  r.running_var = v.value();
  return r;
}

void require_close(const BnRun& g, const BnRun& c) {
  REQUIRE(g.y.device() == kGpu);
  REQUIRE(g.dx.device() == kGpu);
  ASN_REQUIRE_CLOSE(g.y, c.y, 1e-5, 1e-5);
  ASN_REQUIRE_CLOSE(g.dx, c.dx, 1e-5, 1e-5);
  if (c.dgamma.defined()) ASN_REQUIRE_CLOSE(g.dgamma, c.dgamma, 1e-5, 1e-5);
  if (c.dbeta.defined()) ASN_REQUIRE_CLOSE(g.dbeta, c.dbeta, 1e-5, 1e-5);
  ASN_REQUIRE_CLOSE(g.running_mean, c.running_mean, 1e-5, 1e-5);
  ASN_REQUIRE_CLOSE(g.running_var, c.running_var, 1e-5, 1e-5);
}

bool runs_bitwise_equal(const BnRun& a, const BnRun& b) {
  return bitwise_equal(a.y, b.y) && bitwise_equal(a.dx, b.dx) &&
         bitwise_equal(a.dgamma, b.dgamma) && bitwise_equal(a.dbeta, b.dbeta) &&
         bitwise_equal(a.running_mean, b.running_mean) &&
         bitwise_equal(a.running_var, b.running_var);
}

// Per-channel centred values with |x| >= about 0.1: the normalised values stay away from the ReLU
// kink, so CPU and CUDA rounding cannot flip the fused ReLU's mask.
Tensor centred_away_from_zero(const Shape& s, uint64_t seed) {
  const Tensor r = test::random_away_from_zero(s, seed, 0.1, 1.0, DType::f64);
  std::vector<double> v = r.to_vector<double>();
  const int64_t C = s[s.rank() - 1], M = s.numel() / C;
  for (int64_t c = 0; c < C; ++c) {
    double m = 0;
    for (int64_t i = 0; i < M; ++i) m += v[static_cast<size_t>(i * C + c)];
    m /= static_cast<double>(M);
    for (int64_t i = 0; i < M; ++i) v[static_cast<size_t>(i * C + c)] -= m;
  }
  return Tensor::from_vector<double>(s, v).to(DType::f32);
}

}  // namespace

TEST_CASE("cuda batch_norm: kernels match the CPU over every tiling (poisoned outputs)",
          "[cuda][batch_norm]") {
  // (rows, channels): one row, C = 1 and 3, packs of 4, C > 256 (tiles), odd C > 256 (unpacked
  // tiles), many rows (chunked partial sums).
  const std::pair<int64_t, int64_t> sizes[] = {{1, 1},       {7, 3},     {5, 64},   {1000, 64},
                                               {4, 1000},    {33, 1027}, {60, 300}, {9, 2},
                                               {100352, 32}, {2000, 513}};
  uint64_t seed = 2001;
  for (const auto& mc : sizes) {
    for (bool relu : {false, true}) {
      for (bool affine : {true, false}) {
        for (int64_t misalign : {0, 1}) {
          check_kernels<float>(mc.first, mc.second, relu, affine, misalign, seed += 7);
          if (mc.first * mc.second < 1000000) {
            check_kernels<double>(mc.first, mc.second, relu, affine, misalign, seed += 7);
          }
        }
      }
    }
  }
}

TEST_CASE("cuda batch_norm: autograd training forward, backward and running statistics",
          "[cuda][batch_norm]") {
  const Shape shapes[] = {Shape{2, 3, 9, 11, 24}, Shape{3, 1, 7, 7, 16}, Shape{4, 5, 6, 6, 3},
                          Shape{6, 40}};
  uint64_t seed = 2501;
  for (const Shape& s : shapes) {
    for (bool affine : {true, false}) {
      INFO(s.str() << " affine " << affine);
      const int64_t C = s[s.rank() - 1];
      const Tensor x = test::random_uniform(s, seed += 7, -1, 4, DType::f32);
      const Tensor gamma =
          affine ? test::random_uniform(Shape{C}, seed + 1, 0.5, 1.5, DType::f32) : Tensor();
      const Tensor beta =
          affine ? test::random_uniform(Shape{C}, seed + 2, -0.5, 0.5, DType::f32) : Tensor();
      const Tensor rm = test::random_uniform(Shape{C}, seed + 3, -1, 1, DType::f32);
      const Tensor rv = test::random_uniform(Shape{C}, seed + 4, 0.5, 2, DType::f32);
      const Tensor dy = test::random_uniform(s, seed + 5, -1, 1, DType::f32);
      for (bool training : {true, false}) {
        INFO("training " << training);
        const BatchNormOptions opt{training, 0.99, 1e-5};
        const BnRun c = run_bn(false, Device::cpu(), x, gamma, beta, rm, rv, opt, dy);
        const BnRun g = run_bn(false, kGpu, x, gamma, beta, rm, rv, opt, dy);
        require_close(g, c);
      }
    }
  }
}

TEST_CASE("cuda batch_norm_relu: autograd forward and backward away from the kink, both modes",
          "[cuda][batch_norm]") {
  const Shape shapes[] = {Shape{2, 3, 9, 11, 24}, Shape{3, 1, 7, 7, 16}, Shape{4, 5, 6, 6, 3}};
  uint64_t seed = 2701;
  for (const Shape& s : shapes) {
    INFO(s.str());
    const int64_t C = s[s.rank() - 1];
    const Tensor x = centred_away_from_zero(s, seed += 7);
    const Tensor gamma = test::random_uniform(Shape{C}, seed + 1, 0.5, 1.5, DType::f32);
    const Tensor beta = test::random_uniform(Shape{C}, seed + 2, -0.03, 0.03, DType::f32);
    const Tensor rm = test::random_uniform(Shape{C}, seed + 3, -0.01, 0.01, DType::f32);
    const Tensor rv = test::random_uniform(Shape{C}, seed + 4, 0.3, 0.4, DType::f32);
    const Tensor dy = test::random_uniform(s, seed + 5, -1, 1, DType::f32);
    for (bool training : {true, false}) {
      INFO("training " << training);
      const BatchNormOptions opt{training, 0.9, 1e-3};
      const BnRun c = run_bn(true, Device::cpu(), x, gamma, beta, rm, rv, opt, dy);
      const BnRun g = run_bn(true, kGpu, x, gamma, beta, rm, rv, opt, dy);
      require_close(g, c);
    }
  }
}

TEST_CASE("cuda batch_norm: repeated runs are bitwise identical (4x8x28x28x64), and match the CPU",
          "[cuda][batch_norm]") {
  const Shape s{4, 8, 28, 28, 64};
  const Tensor x = test::random_uniform(s, 2901, -2, 3, DType::f32);
  const Tensor gamma = test::random_uniform(Shape{64}, 2902, 0.5, 1.5, DType::f32);
  const Tensor beta = test::random_uniform(Shape{64}, 2903, -0.5, 0.5, DType::f32);
  const Tensor rm = test::random_uniform(Shape{64}, 2904, -1, 1, DType::f32);
  const Tensor rv = test::random_uniform(Shape{64}, 2905, 0.5, 2, DType::f32);
  const Tensor dy = test::random_uniform(s, 2906, -1, 1, DType::f32);
  struct DeterministicGuard {  // restores the switch also when a REQUIRE fails
    bool saved = deterministic();
    ~DeterministicGuard() { set_deterministic(saved); }
  } guard;
  for (bool det : {false, true}) {
    set_deterministic(det);
    for (bool fused : {false, true}) {
      INFO("deterministic " << det << " fused " << fused);
      const BnRun a = run_bn(fused, kGpu, x, gamma, beta, rm, rv, BatchNormOptions{}, dy);
      const BnRun b = run_bn(fused, kGpu, x, gamma, beta, rm, rv, BatchNormOptions{}, dy);
      REQUIRE(runs_bitwise_equal(a, b));
    }
  }
  // And the fused op at this size against the CPU, on inputs away from the ReLU kink (so rounding
  // differences cannot flip the mask).
  const Tensor xc = centred_away_from_zero(s, 2907);
  const Tensor small_beta = test::random_uniform(Shape{64}, 2908, -0.03, 0.03, DType::f32);
  const BnRun c =
      run_bn(true, Device::cpu(), xc, gamma, small_beta, rm, rv, BatchNormOptions{}, dy);
  const BnRun g = run_bn(true, kGpu, xc, gamma, small_beta, rm, rv, BatchNormOptions{}, dy);
  require_close(g, c);
}

TEST_CASE("cuda batch_norm: mixing CPU and CUDA tensors names the op and both devices",
          "[cuda][batch_norm]") {
  const Variable x(test::random_uniform(Shape{2, 3, 4}, 3001, -1, 1, DType::f32).to(kGpu), true);
  const Variable gc(Tensor::full(Shape{4}, 1.0, DType::f32), true);
  const Variable mc(Tensor::zeros(Shape{4}, DType::f32)), vc(Tensor::full(Shape{4}, 1.0));
  const Variable mg(Tensor::zeros(Shape{4}, DType::f32, kGpu));
  const Variable vg(Tensor::full(Shape{4}, 1.0, DType::f32, kGpu));
  // "batch_norm: gamma is f32 (4) on cpu but x is f32 (2, 3, 4) on cuda:0 (...)"
  REQUIRE_THROWS_WITH(batch_norm(x, gc, Variable(), mg, vg), Catch::Contains("batch_norm: gamma") &&
                                                                 Catch::Contains("on cpu") &&
                                                                 Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(batch_norm_relu(x, Variable(), Variable(), mc, vg),
                      Catch::Contains("batch_norm_relu: running_mean") &&
                          Catch::Contains("on cpu") && Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(batch_norm(x, Variable(), Variable(), mg, vc, BatchNormOptions{false}),
                      Catch::Contains("batch_norm: running_var") && Catch::Contains("on cpu") &&
                          Catch::Contains("on cuda:0"));
}

TEST_CASE("cuda batch_norm: the memory-saving rebuild of y equals the forward's y bitwise",
          "[cuda][batch_norm][recompute]") {
  const std::pair<int64_t, int64_t> sizes[] = {{7, 3}, {1000, 64}, {33, 1027}, {100352, 32}};
  uint64_t seed = 3101;
  for (const auto& mc : sizes) {
    for (bool relu : {false, true}) {
      for (int64_t misalign : {0, 1}) {
        INFO("rows " << mc.first << " channels " << mc.second << " relu " << relu << " misalign "
                     << misalign);
        kernels::BatchNormParams p;
        p.rows = mc.first;
        p.channels = mc.second;
        p.relu = relu;
        const Shape xs{mc.first, mc.second}, cs{mc.second};
        const Tensor x = on_gpu(test::random_uniform(xs, seed += 7, -1, 3, DType::f32), misalign);
        const Tensor gamma = on_gpu(test::random_uniform(cs, seed + 1, 0.5, 1.5, DType::f32));
        const Tensor beta = on_gpu(test::random_uniform(cs, seed + 2, -0.5, 0.5, DType::f32));
        Tensor y = poisoned(xs, DType::f32, misalign), y2 = poisoned(xs, DType::f32, misalign);
        Tensor mean = poisoned(cs, DType::f32), invstd = poisoned(cs, DType::f32);
        kernels::batch_norm_forward_train_cuda<float>(p, x.data<float>(), gamma.data<float>(),
                                                      beta.data<float>(), y.data<float>(),
                                                      mean.data<float>(), invstd.data<float>(),
                                                      nullptr, nullptr, 0);
        kernels::batch_norm_apply_cuda<float>(p, x.data<float>(), gamma.data<float>(),
                                              beta.data<float>(), mean.data<float>(),
                                              invstd.data<float>(), y2.data<float>(), 0);
        REQUIRE(bitwise_equal(y2.to(Device::cpu()), y.to(Device::cpu())));
        // And the CPU rebuild from the same statistics agrees to rounding.
        Tensor yc = Tensor::empty(xs, DType::f32);
        const Tensor xh = x.to(Device::cpu()), gh = gamma.to(Device::cpu()),
                     bh = beta.to(Device::cpu()), mh = mean.to(Device::cpu()),
                     ih = invstd.to(Device::cpu());
        kernels::batch_norm_apply_cpu<float>(p, xh.data<float>(), gh.data<float>(),
                                             bh.data<float>(), mh.data<float>(), ih.data<float>(),
                                             yc.data<float>());
        ASN_REQUIRE_CLOSE(y2.to(Device::cpu()), yc, 1e-6, 1e-6);
      }
    }
  }
}

TEST_CASE("cuda recompute: conv -> batch_norm_relu -> conv gives the normal mode's gradients",
          "[cuda][batch_norm][recompute]") {
  struct DeterministicGuard {
    bool saved = deterministic();
    ~DeterministicGuard() { set_deterministic(saved); }
  } guard;
  set_deterministic(true);  // cuDNN algorithms without atomics: bitwise-comparable runs
  const auto run = [](bool recompute) {
    tape().clear();
    Variable x(on_gpu(test::random_uniform(Shape{2, 3, 9, 10, 8}, 3201, -1, 1, DType::f32)), true);
    Variable w1(on_gpu(test::random_uniform(Shape{16, 1, 3, 3, 8}, 3202, -0.3, 0.3, DType::f32)),
                true);
    Variable gamma(on_gpu(test::random_uniform(Shape{16}, 3203, 0.5, 1.5, DType::f32)), true);
    Variable beta(on_gpu(test::random_uniform(Shape{16}, 3204, -0.3, 0.3, DType::f32)), true);
    Variable w2(on_gpu(test::random_uniform(Shape{12, 3, 1, 1, 16}, 3205, -0.3, 0.3, DType::f32)),
                true);
    Variable mean(on_gpu(Tensor::zeros(Shape{16})), false);
    Variable var(on_gpu(Tensor::full(Shape{16}, 1.0)), false);
    const kernels::Dims3 in{3, 9, 10};
    Variable z;
    std::shared_ptr<Recomputable> rc;
    {
      RecomputeGuard g(recompute);
      Variable e = conv3d(x, w1, kernels::Conv3dParams::same({1, 3, 3}, {1, 1, 1}, {1, 1, 1}, in));
      Variable y = batch_norm_relu(e, gamma, beta, mean, var);
      rc = y.recomputable();
      z = conv3d(y, w2, kernels::Conv3dParams::same({3, 1, 1}, {1, 1, 1}, {1, 1, 1}, in));
    }
    backward(z, on_gpu(test::random_uniform(z.shape(), 3206, -1, 1, DType::f32)));
    REQUIRE((rc != nullptr) == recompute);
    if (rc) REQUIRE(rc->recomputations() == 1);
    std::vector<Tensor> grads;
    for (const Variable* v : {&x, &w1, &gamma, &beta, &w2}) grads.push_back(v->grad().to(Device::cpu()));
    return grads;
  };
  const std::vector<Tensor> normal = run(false), saving = run(true);
  for (size_t i = 0; i < normal.size(); ++i) {
    INFO("gradient " << i);
    REQUIRE(bitwise_equal(saving[i], normal[i]));
  }
}
