// Whole networks on CUDA against the CPU: every published structure built at 4 x 64 x 64 (flow
// iterations cut to 3), initialised from the same seed on both devices (f32), run forward in
// training mode (batch-norm batch statistics, the Lite head's dropout from equally seeded
// generators) on the same 2 clips, then backward from the same seed gradient. Compared: the
// logits, the flow (where the structure has one) and every node's output elementwise, normalised
// by the tensor's largest magnitude; and the flat parameter gradient by its relative L2 error.
//
// Tolerances: outputs 1e-4 of each tensor's largest magnitude, parameter gradient 1e-4 relative
// L2 error. Not measured on a GPU yet (the test prints what it measures, one WARN line per
// structure). As a proxy for how far f32 rounding differences grow through these networks, the
// same runs on the CPU in f32 against f64 (identical parameters and inputs) differ by at most
// 3.1e-6 of a node output's largest magnitude (1.1e-6 for the logits, 8.4e-7 for the flow) and
// by 9e-7 relative L2 in the parameter gradient; CPU f32 against CUDA f32 (different summation
// orders in cuDNN, cuBLASLt and the reductions) is expected to be of that order, so the
// tolerances leave a margin of about 30x and 100x.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/checkpoint.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/rng.h"
#include "engine/runtime_flags.h"
#include "graph/network.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::graph;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

using test::max_abs;

constexpr double kOutputTol = 1e-4;
constexpr double kGradRelL2Tol = 1e-4;

std::string path_of(const std::string& name) {
  return std::string(ASN_SOURCE_DIR) + "/structures/" + name;
}

// max |a - b| / max |b| (0 when both are all zeros).
double normalised_max_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  double err = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    err = std::max(err, std::isnan(va[i]) ? INFINITY : std::fabs(va[i] - vb[i]));
    scale = std::max(scale, std::fabs(vb[i]));
  }
  return scale > 0 ? err / scale : err;
}

// ||a - b|| / ||b||.
double relative_l2_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    num += (va[i] - vb[i]) * (va[i] - vb[i]);
    den += vb[i] * vb[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

struct Run {
  NetworkOutputs out;
  Tensor grads;
};

Run run_network(Network& net, const Structure& s, Device dev, const Tensor& rgb,
                const Tensor& objects, const Tensor& seed_grad) {
  NetworkInputs in;
  in.rgb = ag::Variable(rgb.to(dev));
  if (s.object_input) in.objects = ag::Variable(objects.to(dev));
  Generator dropout_gen(99);
  net.parameters().zero_grad();
  ag::tape().clear();
  Run r;
  r.out = net.forward(in, /*training=*/true, &dropout_gen);
  ag::backward(r.out.logits, seed_grad.to(dev));
  r.grads = net.parameters().grads();
  return r;
}

}  // namespace

TEST_CASE("cuda network: every published structure matches the CPU forward and backward",
          "[cuda][network]") {
  struct Tf32Guard {
    bool saved = allow_tf32();
    ~Tf32Guard() { set_allow_tf32(saved); }
  } guard;
  set_allow_tf32(false);
  for (const char* f : {"assemblenet50.json", "assemblenet101.json", "assemblenet_plus50.json",
                        "assemblenet_plus50_rgb_flow.json", "assemblenet_plus_lite.json"}) {
    INFO(f);
    Structure s = load_structure(path_of(f));
    s.rep_flow_iterations = 3;
    const InputSpec spec{4, 64, 64};
    Network cpu_net(s, spec), gpu_net(s, spec);
    cpu_net.initialize(DType::f32, Device::cpu(), 1);
    gpu_net.initialize(DType::f32, kGpu, 1);
    // The same initial values on both devices.
    REQUIRE(gpu_net.parameters().values().to_vector<float>() ==
            cpu_net.parameters().values().to_vector<float>());

    const Tensor rgb = test::random_uniform(Shape{2, 4, 64, 64, 3}, 5, 0, 1, DType::f32);
    Tensor objects;
    if (s.object_input) {
      objects =
          test::random_uniform(Shape{2, 4, 64, 64, s.num_object_classes}, 6, 0, 1, DType::f32);
    }
    const Tensor seed_grad = test::random_uniform(Shape{2, s.num_classes}, 7, -1, 1, DType::f32);

    const Run cpu = run_network(cpu_net, s, Device::cpu(), rgb, objects, seed_grad);
    const Run gpu = run_network(gpu_net, s, kGpu, rgb, objects, seed_grad);

    REQUIRE(gpu.out.logits.device() == kGpu);
    REQUIRE(gpu.out.nodes.size() == cpu.out.nodes.size());
    double worst_node = 0;
    int worst_index = -1;
    for (size_t i = 0; i < cpu.out.nodes.size(); ++i) {
      const double e = normalised_max_error(gpu.out.nodes[i].value(), cpu.out.nodes[i].value());
      if (e > worst_node || worst_index < 0) {
        worst_node = e;
        worst_index = static_cast<int>(i);
      }
    }
    const double logits_err = normalised_max_error(gpu.out.logits.value(), cpu.out.logits.value());
    const double flow_err = cpu.out.flow.defined()
                                ? normalised_max_error(gpu.out.flow.value(), cpu.out.flow.value())
                                : 0.0;
    const double grad_err = relative_l2_error(gpu.grads, cpu.grads);
    WARN(f << ": normalised max error: logits " << logits_err << ", worst node (node_"
           << worst_index << ") " << worst_node << ", flow " << flow_err
           << "; gradient relative L2 error " << grad_err);

    for (size_t i = 0; i < cpu.out.nodes.size(); ++i) {
      INFO("node_" << i);
      const Tensor& ref = cpu.out.nodes[i].value();
      ASN_REQUIRE_CLOSE(gpu.out.nodes[i].value(), ref, kOutputTol, kOutputTol * max_abs(ref));
    }
    if (cpu.out.flow.defined()) {
      INFO("flow");
      const Tensor& ref = cpu.out.flow.value();
      ASN_REQUIRE_CLOSE(gpu.out.flow.value(), ref, kOutputTol, kOutputTol * max_abs(ref));
    }
    {
      INFO("logits");
      const Tensor& ref = cpu.out.logits.value();
      ASN_REQUIRE_CLOSE(gpu.out.logits.value(), ref, kOutputTol, kOutputTol * max_abs(ref));
    }
    REQUIRE(gpu.grads.device() == kGpu);
    REQUIRE(std::isfinite(grad_err));
    REQUIRE(grad_err <= kGradRelL2Tol);
  }
}

TEST_CASE("cuda network: checkpointed block groups and the memory-saving mode give the normal gradients",
          "[cuda][network][checkpoint][recompute]") {
  struct DeterministicGuard {  // restores the switch also when a REQUIRE fails
    bool saved = deterministic();
    ~DeterministicGuard() { set_deterministic(saved); }
  } guard;
  set_deterministic(true);  // the same cuDNN algorithms in every run: bitwise-comparable
  Structure s = load_structure(std::string(ASN_SOURCE_DIR) + "/structures/assemblenet_plus_lite.json");
  s.rep_flow_iterations = 3;
  Network net(s, InputSpec{4, 64, 64});
  net.initialize(DType::f32, kGpu, 1);
  const Tensor rgb = on_gpu(test::random_uniform(Shape{2, 4, 64, 64, 3}, 41, 0, 1, DType::f32));
  const Tensor seed = on_gpu(test::random_uniform(Shape{2, s.num_classes}, 42, -1, 1, DType::f32));
  const Tensor buffers0 = net.parameters().buffers().clone();
  auto step = [&](int mode) {  // 0 normal, 1 recompute, 2 checkpointed groups
    ag::tape().clear();
    net.parameters().zero_grad();
    net.parameters().buffers().copy_from(buffers0);
    NetworkInputs in;
    in.rgb = ag::Variable(rgb);
    ag::Variable logits;
    {
      ag::RecomputeGuard recompute(mode == 1);
      ag::CheckpointGuard checkpoint(mode == 2);
      logits = net.forward(in, /*training=*/true).logits;
    }
    ag::backward(logits, seed);
    return std::make_pair(net.parameters().grads().to(Device::cpu()), net.parameters().buffers().to(Device::cpu()));
  };
  const auto normal = step(0);
  for (int mode : {1, 2}) {
    INFO("mode " << mode);
    const auto other = step(mode);
    REQUIRE(bitwise_equal(other.first, normal.first));
    REQUIRE(bitwise_equal(other.second, normal.second));
  }
}
