// Representation flow on CUDA against the CPU implementation: the TV-L1 forward kernels (the band
// kernel that keeps a plane in the shared memory of a thread-block cluster for every iteration,
// and the tiled fallback that fuses a few iterations per launch with a recomputed halo), the
// checkpoints and segment states they write, the per-iteration backward kernel, the
// parameter-gradient reductions and the input normalisation, at odd sizes (several tiles and
// bands, partial and empty bands, W or H smaller than a tile), T = 2 and T = 1, f64 and f32.
// Every output buffer is filled with NaN before the launch so an element the kernels forget shows.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/functions/rep_flow.h"
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/repflow/flow_normalize.h"
#include "kernels/repflow/tvl1_flow.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

using test::max_abs;

const Device kGpu = Device::cuda(0);
const double kNaN = std::numeric_limits<double>::quiet_NaN();

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

// Tolerance on the scale of the reference: f64 agrees to rounding, f32 differs in rounding (FMA
// contraction, reduction order) that 40 iterations can carry to ~1e-5 of the flow's scale.
double scale_tol(DType dt, const Tensor& ref) {
  return (dt == DType::f64 ? 1e-9 : 2e-4) * std::max(1.0, max_abs(ref));
}

std::vector<double> grads_vector(const kernels::TvL1ParamGrads& g) {
  std::vector<double> v = {g.theta, g.lambda, g.tau};
  for (double x : g.img_grad_x) v.push_back(x);
  for (double x : g.img_grad_y) v.push_back(x);
  for (double x : g.f_grad_x) v.push_back(x);
  for (double x : g.f_grad_y) v.push_back(x);
  for (double x : g.f_grad_x2) v.push_back(x);
  for (double x : g.f_grad_y2) v.push_back(x);
  return v;
}

struct Case {
  Shape shape;  // image (N, T, H, W, C)
  int iterations, checkpoint_every;
};

// One forward + backward through the kernel API on both devices, everything compared.
template <class T>
void compare_tvl1(const Case& c, const kernels::TvL1Params& p, uint64_t seed) {
  const DType dt = dtype_of<T>();
  kernels::TvL1Dims d;
  d.n = c.shape[0];
  d.t = c.shape[1];
  d.h = c.shape[2];
  d.w = c.shape[3];
  d.c = c.shape[4];
  d.iterations = c.iterations;
  d.checkpoint_every = c.checkpoint_every;
  const Shape flow_shape = c.shape.with(4, 2 * d.c);
  const Tensor image = test::random_uniform(c.shape, seed, 0.0, 255.0, dt);
  const Tensor grad_flow = test::random_uniform(flow_shape, seed + 1, -1.0, 1.0, dt);
  const int64_t nck = std::max<int64_t>(1, d.checkpoint_elements());

  // CPU reference.
  Tensor flow_cpu = Tensor::empty(flow_shape, dt);
  Tensor ck_cpu = Tensor::empty(Shape{nck}, dt);
  kernels::tvl1_flow_forward_cpu<T>(image.data<T>(), d, p, flow_cpu.data<T>(), ck_cpu.data<T>());
  Tensor gi_cpu = Tensor::empty(c.shape, dt);
  kernels::TvL1ParamGrads gp_cpu;
  kernels::tvl1_flow_backward_cpu<T>(image.data<T>(), ck_cpu.data<T>(), grad_flow.data<T>(), d, p,
                                     gi_cpu.data<T>(), &gp_cpu);

  // CUDA, outputs poisoned.
  const Tensor image_gpu = image.to(kGpu);
  const Tensor grad_flow_gpu = grad_flow.to(kGpu);
  Tensor flow_gpu = Tensor::full(flow_shape, kNaN, dt, kGpu);
  Tensor ck_gpu = Tensor::full(Shape{nck}, kNaN, dt, kGpu);
  kernels::cuda::tvl1_flow_forward<T>(image_gpu.data<T>(), d, p, flow_gpu.data<T>(),
                                      ck_gpu.data<T>(), 0);
  Tensor gi_gpu = Tensor::full(c.shape, kNaN, dt, kGpu);
  kernels::TvL1ParamGrads gp_gpu;
  kernels::cuda::tvl1_flow_backward<T>(image_gpu.data<T>(), ck_gpu.data<T>(),
                                       grad_flow_gpu.data<T>(), d, p, gi_gpu.data<T>(), &gp_gpu,
                                       0);

  INFO("image " << c.shape.str() << " iterations " << c.iterations << " K " << d.interval()
                << " dtype " << dtype_name(dt));
  ASN_REQUIRE_CLOSE(flow_gpu.to(Device::cpu()), flow_cpu, 0.0, scale_tol(dt, flow_cpu));
  if (d.checkpoint_elements() > 0) {
    ASN_REQUIRE_CLOSE(ck_gpu.to(Device::cpu()), ck_cpu, 0.0, scale_tol(dt, ck_cpu));
  }
  const double gtol = (dt == DType::f64 ? 1e-8 : 2e-3) * std::max(1e-3, max_abs(gi_cpu));
  ASN_REQUIRE_CLOSE(gi_gpu.to(Device::cpu()), gi_cpu, 0.0, gtol);
  const std::vector<double> a = grads_vector(gp_gpu), b = grads_vector(gp_cpu);
  for (size_t k = 0; k < a.size(); ++k) {
    INFO("parameter gradient " << k << ": cuda " << a[k] << " cpu " << b[k]);
    REQUIRE(std::isfinite(a[k]));
    REQUIRE(std::fabs(a[k] - b[k]) <= (dt == DType::f64 ? 1e-8 : 2e-3) * (1 + std::fabs(b[k])));
  }
}

}  // namespace

TEST_CASE("rep_flow cuda: TV-L1 forward, checkpoints and backward match the CPU",
          "[cuda][rep_flow]") {
  const std::vector<Case> cases = {
      {Shape{1, 2, 37, 45, 1}, 9, 3},    // T = 2, several tiles with partial edges
      {Shape{2, 3, 19, 70, 1}, 10, 4},   // fused launches of 4 stop at checkpoint boundaries
      {Shape{1, 3, 5, 3, 2}, 7, 0},      // plane smaller than a tile, two channels, K = 3
      {Shape{1, 2, 1, 33, 1}, 5, 1},     // H = 1, every state a checkpoint
      {Shape{1, 4, 17, 1, 3}, 6, 2},     // W = 1, three channels
      {Shape{2, 2, 48, 64, 1}, 40, 0},   // AssembleNet's 40 iterations, K = 7, exact tiles
      // Paths of the band kernel (one cluster per plane) on a GPU with 227 KB of shared memory
      // per block (H100, H200); elsewhere the cluster sizes differ, the comparisons still hold:
      {Shape{1, 2, 96, 96, 1}, 12, 5},    // clusters of 4 bands (f64) / 2 bands (f32)
      {Shape{1, 3, 70, 90, 2}, 9, 4},     // 2 bands, 2 channels x 2 pairs, W not a multiple of 32
      {Shape{1, 2, 9, 1000, 1}, 6, 4},    // f64: 8 bands of 2, 2, 2, 2, 1, 0, 0, 0 rows (partial
                                          // and empty bands); f32: 4 bands of 3, 3, 3, 0 rows
      {Shape{1, 2, 224, 224, 1}, 40, 0},  // the network's plane: f32 8 bands of 28 rows; f64 tiled
      {Shape{2, 3, 224, 224, 1}, 11, 4},  // the same with checkpoints and several planes (the f32
                                          // 224 x 224 specialisation's store and recompute paths)
      {Shape{1, 2, 64, 1030, 1}, 5, 2},   // no band fits: the tiled kernels in both precisions
  };
  uint64_t seed = 500;
  for (const Case& c : cases) {
    compare_tvl1<double>(c, odd_params(), seed);
    compare_tvl1<double>(c, kernels::TvL1Params{}, seed + 7);
    compare_tvl1<float>(c, kernels::TvL1Params{}, seed + 11);
    seed += 100;
  }
}

TEST_CASE("rep_flow cuda: T = 1 gives a zero flow and zero gradients", "[cuda][rep_flow]") {
  kernels::TvL1Dims d;
  d.n = 2;
  d.t = 1;
  d.h = 9;
  d.w = 7;
  d.c = 1;
  d.iterations = 5;
  const Tensor image = test::random_uniform(Shape{2, 1, 9, 7, 1}, 3, 0.0, 1.0).to(kGpu);
  Tensor flow = Tensor::full(Shape{2, 1, 9, 7, 2}, kNaN, DType::f64, kGpu);
  kernels::cuda::tvl1_flow_forward<double>(image.data<double>(), d, {}, flow.data<double>(),
                                           nullptr, 0);
  for (double v : flow.to_vector<double>()) REQUIRE(v == 0.0);
  Tensor gi = Tensor::full(Shape{2, 1, 9, 7, 1}, kNaN, DType::f64, kGpu);
  kernels::TvL1ParamGrads gp;
  gp.theta = kNaN;
  kernels::cuda::tvl1_flow_backward<double>(image.data<double>(), nullptr, flow.data<double>(), d,
                                            {}, gi.data<double>(), &gp, 0);
  for (double v : gi.to_vector<double>()) REQUIRE(v == 0.0);
  REQUIRE(gp.theta == 0.0);
}

TEST_CASE("rep_flow cuda: input normalisation forward and backward match the CPU",
          "[cuda][rep_flow]") {
  for (bool mean : {true, false}) {
    for (DType dt : {DType::f64, DType::f32}) {
      INFO("channel_mean " << mean << " dtype " << dtype_name(dt));
      kernels::FlowNormalizeDims d;
      d.pixels = 3 * 5 * 41 * 37;
      d.c = 3;
      d.channel_mean = mean;
      d.normalize = true;
      const Shape xs{3, 5, 41, 37, 3};
      const Shape ys = xs.with(4, d.out_channels());
      const Tensor x = test::random_uniform(xs, 40 + mean, 0.0, 1.0, dt);
      const Tensor g = test::random_uniform(ys, 50 + mean, -1.0, 1.0, dt);
      Tensor y_cpu = Tensor::empty(ys, dt), gx_cpu = Tensor::empty(xs, dt);
      Tensor y_gpu = Tensor::full(ys, kNaN, dt, kGpu), gx_gpu = Tensor::full(xs, kNaN, dt, kGpu);
      const Tensor x_gpu = x.to(kGpu), g_gpu = g.to(kGpu);
      kernels::dispatch_float("test", dt, [&](auto tag) {
        using T = decltype(tag);
        const kernels::FlowNormalizeStats a =
            kernels::flow_normalize_forward_cpu<T>(x.data<T>(), d, y_cpu.data<T>());
        const kernels::FlowNormalizeStats b =
            kernels::cuda::flow_normalize_forward<T>(x_gpu.data<T>(), d, y_gpu.data<T>(), 0);
        REQUIRE(a.min == b.min);
        REQUIRE(a.max == b.max);
        kernels::flow_normalize_backward_cpu<T>(x.data<T>(), g.data<T>(), d, a, gx_cpu.data<T>());
        kernels::cuda::flow_normalize_backward<T>(x_gpu.data<T>(), g_gpu.data<T>(), d, b,
                                                  gx_gpu.data<T>(), 0);
      });
      ASN_REQUIRE_CLOSE(y_gpu.to(Device::cpu()), y_cpu, dt == DType::f64 ? 1e-14 : 1e-6, 1e-9);
      ASN_REQUIRE_CLOSE(gx_gpu.to(Device::cpu()), gx_cpu, dt == DType::f64 ? 1e-10 : 1e-4,
                        dt == DType::f64 ? 1e-10 : 1e-4);
    }
  }
}

TEST_CASE("rep_flow cuda: the autograd function on CUDA matches the CPU end to end",
          "[cuda][rep_flow]") {
  const Tensor x = test::random_uniform(Shape{2, 3, 23, 29, 3}, 71, 0.0, 1.0);
  RepFlowOptions o;
  o.iterations = 20;  // AssembleNet++Lite's count
  struct Out {
    std::vector<Tensor> grads;
    Tensor flow;
  };
  auto run = [&](Device dev) {
    tape().clear();
    Variable xv(x.to(dev), true);
    RepFlowParams ps = rep_flow_params(odd_params(), DType::f64, dev, true);
    Variable f = rep_flow(xv, ps, o);
    backward(f, test::random_uniform(f.shape(), 72, -1, 1).to(dev));
    Out out;
    out.flow = f.value().to(Device::cpu());
    out.grads.push_back(xv.grad().to(Device::cpu()));
    for (const Variable& v : ps.list()) out.grads.push_back(v.grad().to(Device::cpu()));
    return out;
  };
  const Out cpu = run(Device::cpu());
  const Out gpu = run(kGpu);
  ASN_REQUIRE_CLOSE(gpu.flow, cpu.flow, 0.0, 1e-9 * max_abs(cpu.flow));
  for (size_t k = 0; k < cpu.grads.size(); ++k) {
    INFO("gradient " << k);
    ASN_REQUIRE_CLOSE(gpu.grads[k], cpu.grads[k], 1e-8, 1e-8 * max_abs(cpu.grads[k]));
  }
}
