// Whole-network training-step benchmarks (benchmarks/shapes/models.json): one step = forward in
// training mode, softmax cross-entropy, backward, one SGD (Nesterov) update. Reported besides the
// time: clips/s, the allocator's peak memory during the step, and the bytes the forward pass left
// allocated for the backward (saved activations). flops: 6 x the conv/dense
// multiply-accumulates of a batch (2 per MAC, forward + two backward products), the convention
// under which a model's "FLOP/s" is usually quoted.
#include <fmt/format.h>

#include <memory>

#include "autograd/functions/loss.h"
#include "autograd/optim/sgd.h"
#include "autograd/checkpoint.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "benchmarks/src/bench.h"
#include "engine/allocator.h"
#include "engine/rng.h"
#include "graph/network.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn::bench {

namespace {

struct ModelCase {
  std::string name, structure;
  int64_t batch, frames, size;
  Device device;
  bool recompute = false;   // memory-saving mode (autograd/recompute.h)
  bool checkpoint = false;  // block groups checkpointed (autograd/checkpoint.h)
};

struct ModelState {
  std::unique_ptr<graph::Network> net;
  std::unique_ptr<ag::Sgd> opt;
  Tensor rgb, objects, labels;
  Device device;
  int64_t saved_bytes = 0;  // allocator bytes held after the forward pass, minus those before it
};

}  // namespace

void register_model_benchmarks(const BenchEnv& env) {
  const nlohmann::json shapes = load_shapes(env, "models.json");
  const std::string structures_dir = env.shapes_dir + "/../../structures";
  for (const auto& j : shapes.at("cases")) {
    ModelCase m;
    m.name = j.at("name").get<std::string>();
    m.structure = structures_dir + "/" + j.at("structure").get<std::string>();
    m.batch = j.at("batch").get<int64_t>();
    m.frames = j.at("frames").get<int64_t>();
    m.size = j.at("size").get<int64_t>();
    m.recompute = j.value("recompute", false);
    m.checkpoint = j.value("checkpoint", false);
    const bool cuda = j.at("device").get<std::string>() == "cuda";
    if (cuda && cuda_device_count() == 0) continue;
    m.device = cuda ? Device::cuda(0) : Device::cpu();
    register_benchmark("model/" + m.name + "/train_step", "model", [m] {
      graph::Structure s = graph::load_structure(m.structure);
      auto st = std::make_shared<ModelState>();
      st->net = std::make_unique<graph::Network>(s, graph::InputSpec{m.frames, m.size, m.size});
      st->net->initialize(DType::f32, m.device, 1);
      st->device = m.device;
      st->opt = std::make_unique<ag::Sgd>(st->net->parameters(), ag::SgdOptions{0.9, true, 1e-4});
      Generator g(7);
      Tensor rgb = Tensor::empty(Shape{m.batch, m.frames, m.size, m.size, 3});
      g.fill_uniform(rgb, 0, 1);
      st->rgb = rgb.to(m.device);
      if (s.object_input) {
        Tensor obj = Tensor::empty(Shape{m.batch, m.frames, m.size, m.size, s.num_object_classes});
        g.fill_uniform(obj, 0, 1);
        st->objects = obj.to(m.device);
      }
      std::vector<int32_t> labels;
      for (int64_t i = 0; i < m.batch; ++i) labels.push_back(static_cast<int32_t>(i % s.num_classes));
      st->labels = Tensor::from_vector<int32_t>(Shape{m.batch}, labels).to(m.device);
      int64_t macs = 0;
      for (const auto& r : st->net->summary()) macs += r.macs;
      BenchCase c;
      c.shape = fmt::format("{} clips of {}x{}x{}, {}{}{}", m.batch, m.frames, m.size, m.size, s.name,
                            m.recompute ? ", recompute" : "", m.checkpoint ? ", checkpoint" : "");
      c.flops = 6.0 * static_cast<double>(macs) * static_cast<double>(m.batch);
      c.bytes = 0;
      c.device = m.device.is_cuda() ? "cuda" : "cpu";
      const bool recompute = m.recompute, checkpoint = m.checkpoint;
      c.run = [st, recompute, checkpoint] {
        ag::tape().clear();
        st->net->parameters().zero_grad();
        graph::NetworkInputs in;
        in.rgb = ag::Variable(st->rgb);
        if (st->objects.defined()) in.objects = ag::Variable(st->objects);
        const int64_t before = allocator_for(st->device).stats().allocated_bytes;
        ag::Variable logits;
        {
          ag::RecomputeGuard guard(recompute);
          ag::CheckpointGuard checkpoint_guard(checkpoint);
          logits = st->net->forward(in, true).logits;
        }
        ag::Variable loss = ag::softmax_cross_entropy(logits, st->labels);
        st->saved_bytes = allocator_for(st->device).stats().allocated_bytes - before;
        ag::backward(loss);
        st->opt->step(0.01);
      };
#ifdef ASN_WITH_CUDA
      if (m.device.is_cuda()) {
        const int index = m.device.index;
        c.sync = [index] { cuda::synchronize(index); };
      }
#endif
      const Device dev = m.device;
      const int64_t batch = m.batch;
      allocator_for(dev).reset_peak();
      c.extra = [dev, batch, st](double median_ms) {
        const AllocatorStats a = allocator_for(dev).stats();
        return nlohmann::json{{"clips_per_s", median_ms > 0 ? 1000.0 * static_cast<double>(batch) / median_ms : 0},
                              {"peak_memory_mib", static_cast<double>(a.peak_allocated_bytes) / 1048576.0},
                              {"saved_for_backward_mib", static_cast<double>(st->saved_bytes) / 1048576.0}};
      };
      return c;
    });
  }
}

}  // namespace asn::bench
