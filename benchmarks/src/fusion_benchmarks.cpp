// Fusion benchmarks: ag::gated_sum on the fusion nodes of benchmarks/shapes/fusion.json (real
// AssembleNet / AssembleNet++ nodes), one gated_sum per channel group, as Fusion::forward runs it.
//
// Per case and device (CPU at the case's "cpu" batch x frames; CUDA at its "cuda" batch x frames,
// registered only when a GPU is present, with a sync that waits for the device's streams):
//   fusion/<case>_<device>_<N>x<T>/fwd     S_g = gated_sum(group g) for every group, no recording
//   fusion/<case>_<device>_<N>x<T>/fwdbwd  per group: S_g, then backward(S_g, dS_g): dx for every
//                                           input, dw, and da for every gate
// flops: 2 per input element and output term (compare + multiply-add; bandwidth-bound anyway).
// bytes (compulsory traffic, f32): forward reads every input once (and the gates, weights) and
// writes every output once; backward reads the inputs again (the argmax and the pooled values are
// recomputed, not stored), dS and the gates, and writes dx, da and dw. GB/s against the HBM peak
// is then the fraction of bandwidth the kernels reach. Inputs are uniform in [-1, 1) (fixed seed).
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "autograd/functions/gated_sum.h"
#include "autograd/tape.h"
#include "benchmarks/src/bench.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/rng.h"
#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn::bench {

namespace {

struct GroupShape {
  int64_t channels = 0;
  std::vector<std::pair<int64_t, int64_t>> inputs;  // (H, W)
};

struct FusionShape {
  std::string name;
  int64_t Hs = 0, Ws = 0;
  bool peer = false;
  std::vector<GroupShape> groups;
  int64_t cpu_batch = 1, cpu_frames = 1, cuda_batch = 1, cuda_frames = 1;
};

FusionShape parse_case(const nlohmann::json& j) {
  FusionShape c;
  c.name = j.at("name").get<std::string>();
  const auto target = j.at("target").get<std::vector<int64_t>>();
  ASN_CHECK(target.size() == 2, "asn-bench: fusion case '{}' needs a 2-element 'target'", c.name);
  c.Hs = target[0];
  c.Ws = target[1];
  const std::string attention = j.at("attention").get<std::string>();
  ASN_CHECK(attention == "none" || attention == "peer",
            "asn-bench: fusion case '{}': attention must be none or peer, got '{}'", c.name,
            attention);
  c.peer = attention == "peer";
  for (const nlohmann::json& g : j.at("groups")) {
    GroupShape gs;
    gs.channels = g.at("channels").get<int64_t>();
    for (const nlohmann::json& hw : g.at("inputs")) {
      const auto v = hw.get<std::vector<int64_t>>();
      ASN_CHECK(v.size() == 2, "asn-bench: fusion case '{}': an input size must be [H, W]", c.name);
      gs.inputs.emplace_back(v[0], v[1]);
    }
    c.groups.push_back(gs);
  }
  const auto cpu = j.at("runs").at("cpu").get<std::vector<int64_t>>();
  const auto gpu = j.at("runs").at("cuda").get<std::vector<int64_t>>();
  ASN_CHECK(cpu.size() == 2 && gpu.size() == 2,
            "asn-bench: fusion case '{}': runs.cpu and runs.cuda must be [batch, frames]", c.name);
  c.cpu_batch = cpu[0];
  c.cpu_frames = cpu[1];
  c.cuda_batch = gpu[0];
  c.cuda_frames = gpu[1];
  return c;
}

// The tensors of one group at batch N x T frames, on `device`.
struct Group {
  std::vector<Tensor> xs, gates;
  std::vector<int64_t> weight_index;  // into the node's weight vector
  Tensor ds;                          // backward seed (N, T, Hs, Ws, C)
};

struct Work {
  int64_t Hs = 0, Ws = 0;
  Tensor weights;  // (node inputs,)
  std::vector<Group> groups;
  double input_elems = 0, output_elems = 0, gate_elems = 0;
};

std::shared_ptr<Work> make_work(const FusionShape& c, int64_t N, int64_t T, Device device) {
  auto w = std::make_shared<Work>();
  w->Hs = c.Hs;
  w->Ws = c.Ws;
  Generator gen(7);
  int64_t inputs = 0;
  for (const GroupShape& g : c.groups) inputs += static_cast<int64_t>(g.inputs.size());
  w->weights = Tensor::empty(Shape{inputs}, DType::f32, device);
  gen.fill_uniform(w->weights, 0.2, 0.9);
  int64_t next = 0;
  for (const GroupShape& gs : c.groups) {
    Group g;
    for (const auto& hw : gs.inputs) {
      Tensor x = Tensor::empty(Shape{N, T, hw.first, hw.second, gs.channels}, DType::f32, device);
      gen.fill_uniform(x, -1, 1);
      w->input_elems += static_cast<double>(x.numel());
      g.xs.push_back(x);
      g.weight_index.push_back(next++);
      if (c.peer) {
        Tensor a = Tensor::empty(Shape{N, T, gs.channels}, DType::f32, device);
        gen.fill_uniform(a, 0.1, 1);
        w->gate_elems += static_cast<double>(a.numel());
        g.gates.push_back(a);
      }
    }
    g.ds = Tensor::empty(Shape{N, T, c.Hs, c.Ws, gs.channels}, DType::f32, device);
    gen.fill_uniform(g.ds, -1, 1);
    w->output_elems += static_cast<double>(g.ds.numel());
    w->groups.push_back(g);
  }
  return w;
}

ag::Variable run_group(const Work& w, const Group& g, bool grad) {
  std::vector<ag::Variable> xs, gates;
  for (const Tensor& x : g.xs) xs.emplace_back(x, grad);
  for (const Tensor& a : g.gates) gates.emplace_back(a, grad);
  return ag::gated_sum(xs, ag::Variable(w.weights, grad), g.weight_index, gates, w.Hs, w.Ws);
}

std::string describe_case(const FusionShape& c, int64_t N, int64_t T) {
  std::string s;
  for (const GroupShape& g : c.groups) {
    if (!s.empty()) s += "; ";
    s += fmt::format("C {}:", g.channels);
    for (const auto& hw : g.inputs) s += fmt::format(" {}x{}", hw.first, hw.second);
  }
  return fmt::format("(N, T) = ({}, {}), groups [{}] -> {}x{}{}", N, T, s, c.Hs, c.Ws,
                     c.peer ? ", peer gates" : "");
}

BenchCase make_case(const FusionShape& c, Device device, bool with_backward) {
  const bool gpu = device.is_cuda();
  const int64_t N = gpu ? c.cuda_batch : c.cpu_batch, T = gpu ? c.cuda_frames : c.cpu_frames;
  auto w = make_work(c, N, T, device);
  BenchCase b;
  b.shape = describe_case(c, N, T);
  b.device = gpu ? "cuda" : "cpu";
  const double in = w->input_elems, out = w->output_elems, gates = w->gate_elems;
  const double weights = static_cast<double>(w->weights.numel());
  b.flops = 2 * in + 2 * out;
  b.bytes = 4.0 * (in + gates + weights + out);
  if (with_backward) {
    // Reads x, dS and the gates again; writes dx, da and dw.
    b.flops *= 2;
    b.bytes += 4.0 * (in + out + gates + in + gates + weights);
    b.run = [w] {
      for (const Group& g : w->groups) {
        ag::tape().clear();
        ag::backward(run_group(*w, g, true), g.ds);
      }
    };
  } else {
    b.run = [w] {
      ag::NoGradGuard no_grad;
      for (const Group& g : w->groups) (void)run_group(*w, g, false);
    };
  }
#ifdef ASN_WITH_CUDA
  if (gpu) b.sync = [index = device.index] { asn::cuda::synchronize(index); };
#endif
  return b;
}

}  // namespace

void register_fusion_benchmarks(const BenchEnv& env) {
  const nlohmann::json shapes = load_shapes(env, "fusion.json");
  const bool gpu = cuda_device_count() > 0;
  for (const nlohmann::json& j : shapes.at("cases")) {
    const FusionShape c = parse_case(j);
    std::vector<Device> devices{Device::cpu()};
    if (gpu) devices.push_back(Device::cuda(0));
    for (Device d : devices) {
      const bool cuda = d.is_cuda();
      const std::string base =
          fmt::format("fusion/{}_{}_{}x{}", c.name, cuda ? "cuda" : "cpu",
                      cuda ? c.cuda_batch : c.cpu_batch, cuda ? c.cuda_frames : c.cpu_frames);
      register_benchmark(base + "/fwd", "fusion", [c, d] { return make_case(c, d, false); });
      register_benchmark(base + "/fwdbwd", "fusion", [c, d] { return make_case(c, d, true); });
    }
  }
}

}  // namespace asn::bench
