// Gradient checkpointing (autograd/checkpoint.h): gradients bitwise those without it for a
// conv -> BN-ReLU -> conv segment (inputs, parameters, f32 and f64), running statistics updated
// once, the segment's activations freed after the forward pass, a segment whose input needs no
// gradient still training its parameters, no-grad passthrough, and a whole AssembleNet++Lite step
// in both memory modes (this one and the memory-saving recompute mode).
#include <catch2/catch.hpp>

#include <memory>

#include "autograd/checkpoint.h"
#include "autograd/functions/batch_norm.h"
#include "autograd/functions/conv3d.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "graph/network.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

namespace {

struct Segment {
  Variable w1, gamma, beta, w2, mean, var;
  kernels::Conv3dParams p1, p2;
  explicit Segment(DType dt) {
    w1 = Variable(test::random_uniform(Shape{6, 1, 3, 3, 4}, 12, -0.5, 0.5, dt), true, "w1");
    gamma = Variable(test::random_uniform(Shape{6}, 13, 0.5, 1.5, dt), true, "gamma");
    beta = Variable(test::random_uniform(Shape{6}, 14, -0.3, 0.3, dt), true, "beta");
    w2 = Variable(test::random_uniform(Shape{5, 3, 1, 1, 6}, 15, -0.5, 0.5, dt), true, "w2");
    mean = Variable(Tensor::zeros(Shape{6}, dt), false);
    var = Variable(Tensor::full(Shape{6}, 1.0, dt), false);
    p1 = kernels::Conv3dParams::same({1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {3, 5, 6});
    p2 = kernels::Conv3dParams::same({3, 1, 1}, {1, 1, 1}, {1, 1, 1}, {3, 5, 6});
  }
  std::vector<Variable> operator()(const std::vector<Variable>& in) const {
    return {conv3d(batch_norm_relu(conv3d(in[0], w1, p1), gamma, beta, mean, var), w2, p2)};
  }
};

struct Run {
  std::vector<Tensor> grads;  // x, w1, gamma, beta, w2
  std::vector<double> running;
  int64_t kept_bytes = 0;
};

Run run(bool checkpointed, bool x_needs_grad, DType dt) {
  tape().clear();
  Segment seg(dt);
  Variable x(test::random_uniform(Shape{1, 3, 5, 6, 4}, 11, -1, 1, dt), x_needs_grad, "x");
  const int64_t before = cpu_allocator().stats().allocated_bytes;
  Variable z = checkpointed ? checkpoint("segment", seg, {x})[0] : seg({x})[0];
  Run r;
  r.kept_bytes = cpu_allocator().stats().allocated_bytes - before;
  backward(z, test::random_uniform(z.shape(), 16, -1, 1, dt));
  if (x_needs_grad) r.grads.push_back(x.grad());
  for (const Variable* v : {&seg.w1, &seg.gamma, &seg.beta, &seg.w2}) r.grads.push_back(v->grad());
  for (double m : seg.mean.value().to_vector<double>()) r.running.push_back(m);
  for (double v : seg.var.value().to_vector<double>()) r.running.push_back(v);
  return r;
}

}  // namespace

TEST_CASE("checkpoint: a recomputed segment gives the same gradients and updates BN once",
          "[autograd][checkpoint]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (bool x_needs : {true, false}) {
      INFO("dtype " << dtype_name(dt) << ", input needs a gradient " << x_needs);
      const Run plain = run(false, x_needs, dt);
      const Run ckpt = run(true, x_needs, dt);
      REQUIRE(plain.grads.size() == ckpt.grads.size());
      for (size_t i = 0; i < plain.grads.size(); ++i) {
        INFO("gradient " << i);
        REQUIRE(ckpt.grads[i].to_vector<double>() == plain.grads[i].to_vector<double>());
      }
      REQUIRE(ckpt.running == plain.running);        // one update, as without checkpointing
      REQUIRE(ckpt.kept_bytes < plain.kept_bytes);   // the segment's activations were not kept
      REQUIRE(tape().size() == 0);
    }
  }
}

TEST_CASE("checkpoint: without recording it is the function itself; the flags are scoped",
          "[autograd][checkpoint]") {
  Segment seg(DType::f32);
  Variable x(test::random_uniform(Shape{1, 3, 5, 6, 4}, 11, -1, 1, DType::f32), true);
  tape().clear();
  {
    NoGradGuard no_grad;
    Variable z = checkpoint("segment", seg, {x})[0];
    REQUIRE_FALSE(z.requires_grad());
    REQUIRE(tape().size() == 0);
  }
  REQUIRE_FALSE(checkpoint_enabled());
  {
    CheckpointGuard on(true);
    REQUIRE(checkpoint_enabled());
  }
  REQUIRE_FALSE(checkpoint_enabled());
  REQUIRE_FALSE(recomputing_forward());
}

TEST_CASE("memory modes: an AssembleNet++Lite step keeps fewer bytes with bitwise equal gradients",
          "[autograd][checkpoint][recompute][network]") {
  graph::Structure s =
      graph::load_structure(std::string(ASN_SOURCE_DIR) + "/structures/assemblenet_plus_lite.json");
  s.rep_flow_iterations = 2;
  graph::Network net(s, graph::InputSpec{4, 32, 32});
  net.initialize(DType::f32, Device::cpu(), 1);
  const Tensor rgb = test::random_uniform(Shape{2, 4, 32, 32, 3}, 21, 0, 1, DType::f32);
  const Tensor seed = test::random_uniform(Shape{2, s.num_classes}, 22, -1, 1, DType::f32);
  const Tensor buffers0 = net.parameters().buffers().clone();
  struct Step {
    std::vector<float> grads, buffers;
    int64_t saved_bytes = 0;
  };
  auto step = [&](bool recompute, bool ckpt) {
    tape().clear();
    net.parameters().zero_grad();
    net.parameters().buffers().copy_from(buffers0);
    graph::NetworkInputs in;
    in.rgb = Variable(rgb);
    Step r;
    const int64_t before = cpu_allocator().stats().allocated_bytes;
    Variable logits;
    {
      RecomputeGuard recompute_guard(recompute);
      CheckpointGuard checkpoint_guard(ckpt);
      logits = net.forward(in, /*training=*/true).logits;
    }
    r.saved_bytes = cpu_allocator().stats().allocated_bytes - before;
    backward(logits, seed);
    r.grads = net.parameters().grads().to_vector<float>();
    r.buffers = net.parameters().buffers().to_vector<float>();
    return r;
  };
  const Step normal = step(false, false), saving = step(true, false), ckpt = step(false, true);
  for (const Step* other : {&saving, &ckpt}) {
    REQUIRE(other->grads == normal.grads);
    REQUIRE(other->buffers == normal.buffers);  // BN statistics updated exactly once
  }
  // Every inverted-bottleneck block feeds two BN-ReLU outputs to convolutions; checkpointing keeps
  // only the block groups' inputs.
  REQUIRE(static_cast<double>(saving.saved_bytes) < 0.8 * static_cast<double>(normal.saved_bytes));
  REQUIRE(static_cast<double>(ckpt.saved_bytes) < 0.6 * static_cast<double>(normal.saved_bytes));
}
