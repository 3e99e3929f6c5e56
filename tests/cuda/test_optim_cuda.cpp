// SGD (plain, momentum, Nesterov) and AdamW on CUDA against the CPU: the same parameters and
// gradients on both devices for several steps with weight decay on the decay range only, values
// and state compared; a state round trip on the device continues identically.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/optim/adamw.h"
#include "autograd/optim/sgd.h"
#include "autograd/parameters.h"
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

// "w" (n_decay,) takes weight decay, "b" (n_rest,) does not; same initial values on any device.
struct Store {
  Parameters ps;
  Store(DType dt, Device dev, int64_t n_decay, int64_t n_rest) {
    ps.add("w", Shape{n_decay}, init::uniform(-1, 1));
    ps.add("b", Shape{n_rest}, init::uniform(-1, 1), ParamOptions{true, false});
    Generator gen(21);
    ps.finalize(dt, Device::cpu(), gen);
    if (dev != Device::cpu()) ps.to(dt, dev);
  }
  void set_grads(int step) {
    ps.grads().copy_from(
        test::random_normal(Shape{ps.num_trainable()}, 12000 + step, 1.0, ps.dtype()));
  }
};

std::unique_ptr<Optimizer> make(int which, Parameters& ps) {
  switch (which) {
    case 0:
      return std::make_unique<Sgd>(ps, SgdOptions{0.0, false, 0.01});
    case 1:
      return std::make_unique<Sgd>(ps, SgdOptions{0.9, false, 1e-3});
    case 2:
      return std::make_unique<Sgd>(ps, SgdOptions{0.9, true, 1e-4});
    default:
      return std::make_unique<AdamW>(ps, AdamwOptions{0.9, 0.999, 1e-8, 0.05});
  }
}

const char* kNames[4] = {"sgd", "sgd momentum", "sgd nesterov", "adamw"};

}  // namespace

TEST_CASE("cuda optim: every optimizer's steps equal the CPU's", "[cuda][optim]") {
  for (int which = 0; which < 4; ++which) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(kNames[which] << " " << dtype_name(dt));
      const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
      Store cpu(dt, Device::cpu(), 3001, 517), gpu(dt, kGpu, 3001, 517);
      REQUIRE(gpu.ps.values().device() == kGpu);
      ASN_REQUIRE_CLOSE(gpu.ps.values(), cpu.ps.values(), 0, 0);
      std::unique_ptr<Optimizer> oc = make(which, cpu.ps), og = make(which, gpu.ps);
      for (int s = 0; s < 4; ++s) {
        cpu.set_grads(s);
        gpu.set_grads(s);
        oc->step(0.01 * (s + 1));
        og->step(0.01 * (s + 1));
        INFO("step " << s + 1);
        ASN_REQUIRE_CLOSE(gpu.ps.values(), cpu.ps.values(), tol, tol);
        const auto sc = oc->state_tensors(), sg = og->state_tensors();
        REQUIRE(sc.size() == sg.size());
        for (size_t i = 0; i < sc.size(); ++i) {
          INFO("state " << sc[i].first);
          REQUIRE(sg[i].second.device() == kGpu);
          ASN_REQUIRE_CLOSE(sg[i].second, sc[i].second, tol, tol);
        }
      }
      REQUIRE(og->step_count() == 4);
    }
  }
}

TEST_CASE("cuda optim: zero gradients move only the decay range", "[cuda][optim]") {
  for (int which = 0; which < 4; ++which) {
    INFO(kNames[which]);
    Store gpu(DType::f64, kGpu, 101, 37);
    const std::vector<double> before = gpu.ps.values().to_vector<double>();
    std::unique_ptr<Optimizer> og = make(which, gpu.ps);
    gpu.ps.zero_grad();
    og->step(0.1);
    const std::vector<double> after = gpu.ps.values().to_vector<double>();
    for (size_t i = 0; i < 101; ++i) REQUIRE(after[i] != before[i]);
    for (size_t i = 101; i < after.size(); ++i) REQUIRE(after[i] == before[i]);
  }
}

TEST_CASE("cuda optim: a state round trip on the device continues identically", "[cuda][optim]") {
  for (int which : {2, 3}) {
    INFO(kNames[which]);
    Store gpu(DType::f32, kGpu, 2001, 99);
    std::unique_ptr<Optimizer> opt = make(which, gpu.ps);
    for (int s = 0; s < 2; ++s) {
      gpu.set_grads(s);
      opt->step(0.01);
    }
    const Tensor saved_values = gpu.ps.values().clone();
    std::vector<std::pair<std::string, Tensor>> saved;
    // Saved on the host, as a checkpoint would be.
    for (const auto& [name, t] : opt->state_tensors())
      saved.emplace_back(name, t.to(Device::cpu()));
    auto continue3 = [&](Optimizer& o) {
      for (int s = 2; s < 5; ++s) {
        gpu.set_grads(s);
        o.step(0.01);
      }
      return gpu.ps.values().to_vector<float>();
    };
    const std::vector<float> after = continue3(*opt);
    gpu.ps.values().copy_from(saved_values);
    std::unique_ptr<Optimizer> fresh = make(which, gpu.ps);
    fresh->load_state_tensors(saved);
    fresh->set_step_count(2);
    REQUIRE(continue3(*fresh) == after);
  }
}

TEST_CASE("cuda optim: state left on another device names the optimizer and both devices",
          "[cuda][optim]") {
  // The optimizer was made while the parameters lived on the CPU; they moved to the GPU after.
  Store store(DType::f32, Device::cpu(), 5, 2);
  Sgd sgd(store.ps, SgdOptions{0.9, false, 0.0});
  store.ps.to(DType::f32, kGpu);
  REQUIRE_THROWS_WITH(sgd.step(0.1), Catch::Contains("sgd: state 'momentum_buffer'") &&
                                         Catch::Contains("(7,) on cpu") &&
                                         Catch::Contains("(7,) on cuda:0"));
}
