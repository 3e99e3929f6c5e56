// asn-train's training loop (apps/trainer, library asn_trainer) on CUDA device 0: the built-in
// synthetic dataset and structures/demo_synthetic.json at 4 x 16 x 16, batch 8, 20 optimizer steps
// in one epoch, deterministic mode (the configuration of the CPU trainer test,
// tests/trainer/test_trainer.cpp, with one loss logged per step).
//
//   - The run trains on the GPU: parameters and BN statistics live there, every step's loss is
//     finite, and the mean of the last five losses is at least 10% below that of the first five
//     (on the CPU: 1.36 -> 0.80).
//   - It trains the same thing as the CPU: the first three losses equal those of the same run on
//     the CPU (same seed, same initial values and data; f32 with TF32 off): step 1 (forward only)
//     within 1e-4 relative, steps 2 and 3 within 1e-3.
//   - Checkpoint and resume on the GPU: a run stopped after step 10 writes a checkpoint that holds
//     exactly the GPU parameters; resumed on the GPU it logs the same losses for steps 11..20 as
//     the uninterrupted run and ends with the same parameters. Deterministic mode should make both
//     bitwise equal; the test allows 1e-5 relative (losses) and 1e-5 relative L2 (parameters) and
//     prints what it measured.
//
// Never run on a GPU yet (docs/gpu-validation.md).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "apps/trainer/config.h"
#include "apps/trainer/signals.h"
#include "apps/trainer/trainer.h"
#include "engine/io/safetensors.h"
#include "engine/runtime_flags.h"
#include "tests/support/cuda_helpers.h"

using namespace asn;
using namespace asn::train;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSteps = 20;      // 160 training clips / batch 8, one epoch
constexpr int64_t kStopAfter = 10;  // the interrupted run

json run_config(const std::string& out, const std::string& device) {
  json user = json::parse(R"({
    "data": {"type": "synthetic",
             "synthetic": {"num_classes": 4, "num_train": 160, "num_val": 16, "video_frames": 8,
                           "height": 16, "width": 16},
             "clip": {"num_frames": 4, "height": 16, "width": 16}},
    "loader": {"batch_size": 8, "num_workers": 2},
    "train": {"epochs": 1, "log_every": 1, "eval_batch_size": 8, "deterministic": true},
    "lr_schedule": {"type": "cosine", "base_lr": 0.05, "warmup_steps": 2},
    "checkpoint": {"keep_last": 3}
  })");
  user["output_dir"] = out;
  user["structure"] = std::string(ASN_SOURCE_DIR) + "/structures/demo_synthetic.json";
  user["train"]["device"] = device;
  return resolve_config(user);
}

// Step -> loss of the "train" lines of a run folder's metrics.jsonl (one line per step here).
std::map<int64_t, double> logged_losses(const std::string& dir) {
  std::map<int64_t, double> out;
  std::ifstream f(dir + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);) {
    const json j = json::parse(line);
    if (j["kind"] == "train") out[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

double mean_of(const std::map<int64_t, double>& losses, int64_t first, int64_t last) {
  double s = 0;
  for (int64_t i = first; i <= last; ++i) s += losses.at(i);
  return s / static_cast<double>(last - first + 1);
}

double relative_diff(double a, double b) {
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-12);
}

// ||a - b|| / ||b|| of two tensors (any devices).
double relative_l2(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  REQUIRE(va.size() == vb.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    num += (va[i] - vb[i]) * (va[i] - vb[i]);
    den += vb[i] * vb[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Restores the process-wide determinism switch that the Trainer sets from its config.
struct DeterministicGuard {
  bool saved = deterministic();
  ~DeterministicGuard() { set_deterministic(saved); }
};

}  // namespace

TEST_CASE("cuda trainer: synthetic run learns, matches the CPU, and resumes exactly on the GPU",
          "[cuda][trainer]") {
  DeterministicGuard guard;
  const fs::path tmp = fs::temp_directory_path();
  const std::string a = (tmp / "asn_cuda_trainer_a").string();
  const std::string b = (tmp / "asn_cuda_trainer_b").string();
  const std::string c = (tmp / "asn_cuda_trainer_cpu").string();
  for (const auto& d : {a, b, c}) fs::remove_all(d);

  // 1. Uninterrupted on the GPU.
  Tensor values_a, buffers_a;
  {
    Trainer t(run_config(a, "cuda:0"), "");
    REQUIRE(t.device() == test::kGpu);
    REQUIRE(t.network().parameters().values().device() == test::kGpu);
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == 0);
    REQUIRE(o.steps == kSteps);
    REQUIRE(o.evaluated);
    values_a = t.network().parameters().values().to(Device::cpu());
    buffers_a = t.network().parameters().buffers().to(Device::cpu());
  }
  const std::map<int64_t, double> losses_a = logged_losses(a);
  REQUIRE(static_cast<int64_t>(losses_a.size()) == kSteps);
  for (const auto& [step, loss] : losses_a) {
    INFO("step " << step);
    REQUIRE(std::isfinite(loss));
  }
  const double first5 = mean_of(losses_a, 1, 5), last5 = mean_of(losses_a, kSteps - 4, kSteps);
  WARN("cuda trainer: mean loss of steps 1-5 " << first5 << ", of steps 16-20 " << last5);
  REQUIRE(last5 < 0.9 * first5);

  // 2. The same run on the CPU, three steps.
  {
    json cfg = run_config(c, "cpu");
    cfg["train"]["max_steps"] = 3;
    cfg["lr_schedule"]["total_steps"] = kSteps;  // the GPU run's schedule, not one over 3 steps
    Trainer t(cfg, "");
    REQUIRE(t.run().steps == 3);
  }
  const std::map<int64_t, double> losses_cpu = logged_losses(c);
  REQUIRE(losses_cpu.size() == 3);
  WARN("cuda trainer: losses of steps 1-3, GPU against CPU, relative differences "
       << relative_diff(losses_a.at(1), losses_cpu.at(1)) << ", "
       << relative_diff(losses_a.at(2), losses_cpu.at(2)) << ", "
       << relative_diff(losses_a.at(3), losses_cpu.at(3)));
  REQUIRE(relative_diff(losses_a.at(1), losses_cpu.at(1)) <= 1e-4);
  REQUIRE(relative_diff(losses_a.at(2), losses_cpu.at(2)) <= 1e-3);
  REQUIRE(relative_diff(losses_a.at(3), losses_cpu.at(3)) <= 1e-3);

  // 3. Stopped after step 10: the checkpoint holds the GPU parameters exactly.
  {
    Trainer t(run_config(b, "cuda:0"), "");
    t.stop_after_step(kStopAfter);
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == kExitInterrupted);
    REQUIRE(o.steps == kStopAfter);
    const std::string ckpt = b + "/ckpt-00000010.safetensors";
    REQUIRE(o.last_checkpoint == ckpt);
    const io::SafetensorsFile f = io::load_safetensors(ckpt);
    for (const auto& e : t.network().parameters().entries()) {
      INFO(e.name);
      REQUIRE(e.var.value().device() == test::kGpu);
      REQUIRE(test::bitwise_equal(f.get(e.name), e.var.value().to(Device::cpu())));
    }
  }
  // 4. Resumed on the GPU: steps 11..20 as in the uninterrupted run.
  {
    Trainer t(run_config(b, "cuda:0"), "", b);
    REQUIRE(t.state().step == kStopAfter);
    REQUIRE(t.state().batch_in_epoch == kStopAfter);
    REQUIRE(t.network().parameters().values().device() == test::kGpu);
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == 0);
    REQUIRE(o.steps == kSteps);
    const std::map<int64_t, double> losses_b = logged_losses(b);
    REQUIRE(static_cast<int64_t>(losses_b.size()) == kSteps);
    double worst = 0;
    for (int64_t s = kStopAfter + 1; s <= kSteps; ++s)
      worst = std::max(worst, relative_diff(losses_b.at(s), losses_a.at(s)));
    const double values_err = relative_l2(t.network().parameters().values(), values_a);
    const double buffers_err = relative_l2(t.network().parameters().buffers(), buffers_a);
    WARN("cuda trainer: resumed against uninterrupted: step 11 loss "
         << losses_b.at(kStopAfter + 1) << " vs " << losses_a.at(kStopAfter + 1)
         << ", worst relative loss difference over steps 11-20 " << worst
         << ", final parameters relative L2 " << values_err << ", BN statistics " << buffers_err);
    REQUIRE(relative_diff(losses_b.at(kStopAfter + 1), losses_a.at(kStopAfter + 1)) <= 1e-5);
    REQUIRE(worst <= 1e-5);
    REQUIRE(values_err <= 1e-5);
    REQUIRE(buffers_err <= 1e-5);
  }
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}
