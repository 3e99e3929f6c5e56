// Benchmarks of the non-convolution ops on shapes of benchmarks/shapes/ops.json: BN+ReLU (fused,
// training mode), max-pool (SAME), dense, and the representation-flow layer (forward, and forward +
// backward with trainable parameters). CPU cases always; "cuda" cases only when a GPU is present.
//   flops: counted per element as the ops' arithmetic (approximate; the bytes are the number that
//   matters for these memory-bound ops). bytes: compulsory traffic, every input read once and
//   every output written once (forward), plus the gradient tensors (forward + backward).
#include <fmt/format.h>

#include <memory>

#include "autograd/functions/batch_norm.h"
#include "autograd/functions/dense.h"
#include "autograd/functions/pool.h"
#include "autograd/functions/rep_flow.h"
#include "autograd/tape.h"
#include "benchmarks/src/bench.h"
#include "engine/device.h"
#include "engine/rng.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn::bench {

namespace {

Shape shape_of(const nlohmann::json& j, const char* key) { return Shape(j.at(key).get<std::vector<int64_t>>()); }

std::shared_ptr<Tensor> random_on(const Shape& s, uint64_t seed, Device d, double lo = -1, double hi = 1) {
  Tensor t = Tensor::empty(s, DType::f32);
  Generator g(seed);
  g.fill_uniform(t, lo, hi);
  return std::make_shared<Tensor>(t.to(d));
}

void set_sync(BenchCase& c, Device d) {
  c.device = d.is_cuda() ? "cuda" : "cpu";
#ifdef ASN_WITH_CUDA
  if (d.is_cuda()) {
    const int index = d.index;
    c.sync = [index] { cuda::synchronize(index); };
  }
#endif
}

std::vector<Device> devices_for(const nlohmann::json& j) {
  const std::string want = j.value("device", "both");
  std::vector<Device> out;
  if (want != "cuda") out.push_back(Device::cpu());
  if (want != "cpu" && cuda_device_count() > 0) out.push_back(Device::cuda(0));
  return out;
}

std::string suffix(Device d) { return d.is_cuda() ? "_cuda" : ""; }

void register_bn(const nlohmann::json& j) {
  const std::string name = j.at("name").get<std::string>();
  const Shape xs = shape_of(j, "x");
  for (Device d : devices_for(j)) {
    for (bool bwd : {false, true}) {
      register_benchmark(fmt::format("bn_relu/{}{}/{}", name, suffix(d), bwd ? "fwdbwd" : "fwd"), "bn_relu", [=] {
        const int64_t C = xs[-1];
        const double n = static_cast<double>(xs.numel());
        BenchCase c;
        c.shape = fmt::format("x {} (training mode, fused ReLU)", xs.str());
        c.flops = n * (bwd ? 14 : 6);
        c.bytes = 4.0 * n * (bwd ? 5 : 2);
        auto x = random_on(xs, 1, d), dy = random_on(xs, 2, d);
        auto gamma = std::make_shared<ag::Variable>(*random_on(Shape{C}, 3, d, 0.5, 1.5), true);
        auto beta = std::make_shared<ag::Variable>(*random_on(Shape{C}, 4, d), true);
        auto mean = std::make_shared<ag::Variable>(Tensor::zeros(Shape{C}, DType::f32, d));
        auto var = std::make_shared<ag::Variable>(Tensor::full(Shape{C}, 1.0, DType::f32, d));
        c.run = [=] {
          ag::tape().clear();
          ag::Variable xv(*x, bwd);
          ag::Variable y = ag::batch_norm_relu(xv, *gamma, *beta, *mean, *var, ag::BatchNormOptions{});
          if (bwd) ag::backward(y, *dy);
        };
        set_sync(c, d);
        return c;
      });
    }
  }
}

void register_pool(const nlohmann::json& j) {
  const std::string name = j.at("name").get<std::string>();
  const Shape xs = shape_of(j, "x");
  const auto k = j.at("kernel").get<std::array<int64_t, 3>>();
  const auto s = j.at("stride").get<std::array<int64_t, 3>>();
  for (Device d : devices_for(j)) {
    for (bool bwd : {false, true}) {
      register_benchmark(fmt::format("max_pool/{}{}/{}", name, suffix(d), bwd ? "fwdbwd" : "fwd"), "max_pool", [=] {
        const kernels::Pool3dParams p = kernels::Pool3dParams::same(k, s, {xs[1], xs[2], xs[3]});
        BenchCase c;
        ag::NoGradGuard ng;
        const Shape ys = ag::max_pool3d(ag::Variable(Tensor::zeros(xs)), p).shape();
        c.shape = fmt::format("x {} -> {}, {}", xs.str(), ys.str(), p.str());
        c.flops = static_cast<double>(ys.numel()) * static_cast<double>(k[0] * k[1] * k[2]);
        c.bytes = 4.0 * static_cast<double>(xs.numel() + ys.numel()) * (bwd ? 2 : 1);
        auto x = random_on(xs, 1, d), dy = random_on(ys, 2, d);
        c.run = [=] {
          ag::tape().clear();
          ag::Variable xv(*x, bwd);
          ag::Variable y = ag::max_pool3d(xv, p);
          if (bwd) ag::backward(y, *dy);
        };
        set_sync(c, d);
        return c;
      });
    }
  }
}

void register_dense(const nlohmann::json& j) {
  const std::string name = j.at("name").get<std::string>();
  const Shape xs = shape_of(j, "x"), ws = shape_of(j, "w");
  for (Device d : devices_for(j)) {
    for (bool bwd : {false, true}) {
      register_benchmark(fmt::format("dense/{}{}/{}", name, suffix(d), bwd ? "fwdbwd" : "fwd"), "dense", [=] {
        const double M = static_cast<double>(xs.numel() / xs[-1]), K = static_cast<double>(ws[1]),
                     N = static_cast<double>(ws[0]);
        BenchCase c;
        c.shape = fmt::format("x {} w {} + bias", xs.str(), ws.str());
        c.flops = 2 * M * K * N * (bwd ? 3 : 1);
        c.bytes = 4.0 * (M * K + K * N + M * N) * (bwd ? 3 : 1);
        auto x = random_on(xs, 1, d), w = random_on(ws, 2, d), b = random_on(Shape{ws[0]}, 3, d);
        auto dy = random_on(xs.with(-1, ws[0]), 4, d);
        c.run = [=] {
          ag::tape().clear();
          ag::Variable y = ag::dense(ag::Variable(*x, bwd), ag::Variable(*w, bwd), ag::Variable(*b, bwd));
          if (bwd) ag::backward(y, *dy);
        };
        set_sync(c, d);
        return c;
      });
    }
  }
}

void register_rep_flow(const nlohmann::json& j) {
  const std::string name = j.at("name").get<std::string>();
  const Shape xs = shape_of(j, "x");
  const int iterations = j.at("iterations").get<int>();
  for (Device d : devices_for(j)) {
    for (bool bwd : {false, true}) {
      register_benchmark(fmt::format("rep_flow/{}/{}", name, bwd ? "fwdbwd" : "fwd"), "rep_flow", [=] {
        const double pixels = static_cast<double>(xs[0] * (xs[1] - 1) * xs[2] * xs[3]);
        BenchCase c;
        c.shape = fmt::format("x {} -> flow (.., 2), {} iterations{}", xs.str(), iterations,
                              bwd ? ", trainable parameters" : "");
        c.flops = pixels * iterations * 80.0 * (bwd ? 3 : 1);
        // Floor: read the clip once, write the flow once (the iterations live in fast memory).
        c.bytes = 4.0 * (static_cast<double>(xs.numel()) + static_cast<double>(xs.numel() / 3 * 2));
        auto x = random_on(xs, 1, d, 0, 1);
        auto params = std::make_shared<ag::RepFlowParams>(
            ag::rep_flow_params(kernels::TvL1Params{}, DType::f32, d, /*trainable=*/bwd));
        auto dy = random_on(xs.with(-1, 2), 2, d);
        ag::RepFlowOptions opt;
        opt.iterations = iterations;
        c.run = [=] {
          ag::tape().clear();
          if (!bwd) {
            ag::NoGradGuard ng;
            ag::rep_flow(ag::Variable(*x), *params, opt);
            return;
          }
          ag::backward(ag::rep_flow(ag::Variable(*x, true), *params, opt), *dy);
        };
        set_sync(c, d);
        return c;
      });
    }
  }
}

}  // namespace

void register_op_benchmarks(const BenchEnv& env) {
  const nlohmann::json shapes = load_shapes(env, "ops.json");
  for (const auto& j : shapes.at("bn_relu")) register_bn(j);
  for (const auto& j : shapes.at("max_pool")) register_pool(j);
  for (const auto& j : shapes.at("dense")) register_dense(j);
  for (const auto& j : shapes.at("rep_flow")) register_rep_flow(j);
}

}  // namespace asn::bench
