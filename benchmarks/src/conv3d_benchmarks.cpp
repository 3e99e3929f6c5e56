// conv3d benchmarks on the shapes of benchmarks/shapes/conv3d.json (real AssembleNet layers).
//
// For every case two benchmarks, both through the autograd function ag::conv3d (so, like the
// PyTorch baseline, each run allocates its outputs):
//   conv3d/<case>/fwd     y = conv3d(x, w) without recording
//                         flops 2*MACs; bytes |x| + |w| + |y|
//   conv3d/<case>/fwdbwd  y = conv3d(x, w); backward(y, dy): dx (when input_grad) and dw
//                         flops 2*MACs per pass (forward, backward data, backward weight);
//                         bytes of the forward plus |dy| + |w| + |dx| (backward data) plus
//                         |x| + |dy| + |w| (backward weight)
// Inputs are uniform in [-1, 1) (f32, fixed seed).
#include <fmt/format.h>

#include <memory>

#include "autograd/functions/conv3d.h"
#include "autograd/tape.h"
#include "benchmarks/src/bench.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "kernels/conv/conv3d.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn::bench {

namespace {

struct ConvShape {
  std::string name;
  Shape x, w;
  kernels::Conv3dParams params;
  std::string padding;
  bool input_grad = true;
};

kernels::Dims3 dims3(const nlohmann::json& j, const char* key, const std::string& name) {
  ASN_CHECK(j.contains(key) && j[key].is_array() && j[key].size() == 3,
            "asn-bench: conv3d case '{}' needs a 3-element '{}'", name, key);
  return {j[key][0].get<int64_t>(), j[key][1].get<int64_t>(), j[key][2].get<int64_t>()};
}

Shape shape5(const nlohmann::json& j, const char* key, const std::string& name) {
  ASN_CHECK(j.contains(key) && j[key].is_array() && j[key].size() == 5,
            "asn-bench: conv3d case '{}' needs a 5-element '{}'", name, key);
  return Shape(j[key].get<std::vector<int64_t>>());
}

ConvShape parse_case(const nlohmann::json& j) {
  ConvShape c;
  c.name = j.at("name").get<std::string>();
  c.x = shape5(j, "x", c.name);
  c.w = shape5(j, "w", c.name);
  const kernels::Dims3 stride = dims3(j, "stride", c.name);
  const kernels::Dims3 dilation = dims3(j, "dilation", c.name);
  const kernels::Dims3 k{c.w[1], c.w[2], c.w[3]}, in{c.x[1], c.x[2], c.x[3]};
  c.padding = j.at("padding").get<std::string>();
  if (c.padding == "same") {
    c.params = kernels::Conv3dParams::same(k, stride, dilation, in);
  } else if (c.padding == "fixed") {
    c.params = kernels::Conv3dParams::fixed(k, stride, dilation, in);
  } else if (c.padding == "valid") {
    c.params = kernels::Conv3dParams::valid(stride, dilation);
  } else {
    ASN_THROW(ValueError,
              "asn-bench: conv3d case '{}': padding must be same, fixed or valid, got '{}'", c.name,
              c.padding);
  }
  c.input_grad = j.value("input_grad", true);
  c.params.output_shape(c.x, c.w);  // validates the case
  return c;
}

std::shared_ptr<Tensor> random_tensor(const Shape& s, uint64_t seed, Device d = Device::cpu()) {
  Tensor t = Tensor::empty(s, DType::f32);
  Generator gen(seed);
  gen.fill_uniform(t, -1.0, 1.0);
  return std::make_shared<Tensor>(t.to(d));
}

// CUDA cases time the device: wait for the stream before the clock stops.
void on_device(BenchCase& b, Device d) {
  b.device = d.is_cuda() ? "cuda" : "cpu";
#ifdef ASN_WITH_CUDA
  if (d.is_cuda()) {
    const int index = d.index;
    b.sync = [index] { cuda::synchronize(index); };
  }
#endif
}

std::string describe_case(const ConvShape& c, const Shape& y) {
  return fmt::format("x {} w {} -> y {}, {}", c.x.str(), c.w.str(), y.str(), c.params.str());
}

BenchCase make_forward(const ConvShape& c, Device d) {
  const Shape y = c.params.output_shape(c.x, c.w);
  const double macs = static_cast<double>(kernels::conv3d_macs(c.x, c.w, c.params));
  BenchCase b;
  b.shape = describe_case(c, y);
  b.flops = 2 * macs;
  b.bytes = 4.0 * static_cast<double>(c.x.numel() + c.w.numel() + y.numel());
  auto x = random_tensor(c.x, 1, d), w = random_tensor(c.w, 2, d);
  const kernels::Conv3dParams p = c.params;
  on_device(b, d);
  b.run = [x, w, p] {
    ag::NoGradGuard no_grad;
    ag::Variable out = ag::conv3d(ag::Variable(*x), ag::Variable(*w), p);
    (void)out;
  };
  return b;
}

BenchCase make_forward_backward(const ConvShape& c, Device d) {
  const Shape y = c.params.output_shape(c.x, c.w);
  const double macs = static_cast<double>(kernels::conv3d_macs(c.x, c.w, c.params));
  const double nx = static_cast<double>(c.x.numel()), nw = static_cast<double>(c.w.numel());
  const double ny = static_cast<double>(y.numel());
  BenchCase b;
  b.shape = describe_case(c, y) + (c.input_grad ? "" : ", no input gradient");
  b.flops = 2 * macs * (c.input_grad ? 3 : 2);
  b.bytes = 4.0 * ((nx + nw + ny) + (c.input_grad ? ny + nw + nx : 0) + (nx + ny + nw));
  auto x = random_tensor(c.x, 1, d), w = random_tensor(c.w, 2, d), dy = random_tensor(y, 3, d);
  const kernels::Conv3dParams p = c.params;
  const bool input_grad = c.input_grad;
  on_device(b, d);
  b.run = [x, w, dy, p, input_grad] {
    ag::tape().clear();
    ag::Variable xv(*x, input_grad), wv(*w, true);
    ag::backward(ag::conv3d(xv, wv, p), *dy);
  };
  return b;
}

}  // namespace

void register_conv3d_benchmarks(const BenchEnv& env) {
  const nlohmann::json shapes = load_shapes(env, "conv3d.json");
  for (const nlohmann::json& j : shapes.at("cases")) {
    const ConvShape c = parse_case(j);
    register_benchmark("conv3d/" + c.name + "/fwd", "conv3d", [c] { return make_forward(c, Device::cpu()); });
    register_benchmark("conv3d/" + c.name + "/fwdbwd", "conv3d",
                       [c] { return make_forward_backward(c, Device::cpu()); });
    if (cuda_device_count() > 0) {
      register_benchmark("conv3d/" + c.name + "_cuda/fwd", "conv3d",
                         [c] { return make_forward(c, Device::cuda(0)); });
      register_benchmark("conv3d/" + c.name + "_cuda/fwdbwd", "conv3d",
                         [c] { return make_forward_backward(c, Device::cuda(0)); });
    }
  }
}

}  // namespace asn::bench
