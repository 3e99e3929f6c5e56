// The training loop: an interrupted and resumed run ends bitwise-identical to an uninterrupted one;
// accumulation; evaluation metrics; the run folder's files; clear errors for a bad resume.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "apps/trainer/config.h"
#include "apps/trainer/signals.h"
#include "apps/trainer/trainer.h"
#include "engine/io/tensorboard.h"

using namespace asn;
using namespace asn::train;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A small, fast run: tiny synthetic clips, the demo structure, 2 epochs of 8 steps.
json small_config(const std::string& out) {
  json user = json::parse(R"({
    "structure": "structures/demo_synthetic.json",
    "data": {"type": "synthetic",
             "synthetic": {"num_classes": 4, "num_train": 64, "num_val": 16, "video_frames": 8, "height": 16, "width": 16},
             "clip": {"num_frames": 4, "height": 16, "width": 16}},
    "loader": {"batch_size": 8, "num_workers": 2},
    "train": {"epochs": 2, "log_every": 2, "eval_batch_size": 8, "device": "cpu"},
    "lr_schedule": {"type": "cosine", "base_lr": 0.05, "warmup_steps": 2},
    "checkpoint": {"keep_last": 3}
  })");
  user["output_dir"] = out;
  user["structure"] = std::string(ASN_SOURCE_DIR) + "/structures/demo_synthetic.json";
  return resolve_config(user);
}

// XORs `mask` into the byte `from_end` bytes before the end of `path` (damage after writing).
void flip_bits(const std::string& path, int from_end, char mask) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.get(c);
  f.seekp(-from_end, std::ios::end);
  f.put(static_cast<char>(c ^ mask));
  REQUIRE(f.good());
}

std::vector<float> flat_values(Trainer& t) { return t.network().parameters().values().to_vector<float>(); }
std::vector<float> flat_buffers(Trainer& t) { return t.network().parameters().buffers().to_vector<float>(); }

}  // namespace

TEST_CASE("trainer: interrupt and resume is bitwise identical to an uninterrupted run", "[trainer][resume]") {
  const std::string a = "/tmp/asn_resume_a", b = "/tmp/asn_resume_b";
  fs::remove_all(a);
  fs::remove_all(b);
  std::vector<float> values_a, buffers_a;
  {
    Trainer t(small_config(a), "");
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == 0);
    REQUIRE(o.steps == 16);
    values_a = flat_values(t);
    buffers_a = flat_buffers(t);
  }
  {
    Trainer t(small_config(b), "");
    t.stop_after_step(5);  // mid-epoch 0 (8 steps per epoch)
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == kExitInterrupted);
    REQUIRE(o.steps == 5);
    REQUIRE(fs::exists(b + "/ckpt-00000005.safetensors"));
  }
  {
    Trainer t(small_config(b), "", b);
    REQUIRE(t.state().step == 5);
    REQUIRE(t.state().batch_in_epoch == 5);
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == 0);
    REQUIRE(o.steps == 16);
    REQUIRE(flat_values(t) == values_a);    // every parameter bit
    REQUIRE(flat_buffers(t) == buffers_a);  // BN moving statistics too
  }
  // The run folder: resolved config, JSON lines, TensorBoard events, checkpoints.
  REQUIRE(fs::exists(a + "/config.json"));
  std::ifstream jl(a + "/metrics.jsonl");
  int train_lines = 0, val_lines = 0;
  for (std::string line; std::getline(jl, line);) {
    json j = json::parse(line);
    if (j["kind"] == "train") ++train_lines;
    if (j["kind"] == "val") ++val_lines;
  }
  REQUIRE(train_lines == 8);
  REQUIRE(val_lines == 2);
  bool found_tb = false;
  for (const auto& e : fs::directory_iterator(a + "/tensorboard")) {
    auto ev = io::read_scalar_events(e.path().string());
    found_tb = found_tb || !ev.empty();
  }
  REQUIRE(found_tb);
  REQUIRE(fs::exists(a + "/best.safetensors"));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("trainer: accumulation of 2 half-batches equals one full batch step", "[trainer]") {
  // Same data, same steps: batch 8 vs batch 4 x accumulate 2 differ only by BN statistics per
  // micro-batch; with the loader order fixed both runs must take 8 steps per epoch and stay finite.
  const std::string dir = "/tmp/asn_accum";
  fs::remove_all(dir);
  json cfg = small_config(dir);
  cfg["loader"]["batch_size"] = 4;
  cfg["train"]["accumulate"] = 2;
  cfg["train"]["epochs"] = 1;
  Trainer t(cfg, "");
  TrainOutcome o = t.run();
  REQUIRE(o.exit_code == 0);
  REQUIRE(o.steps == 8);
  REQUIRE(std::isfinite(o.last_loss));
  fs::remove_all(dir);
}

TEST_CASE("trainer: the memory-saving mode and block checkpointing train bitwise like the normal run",
          "[trainer][recompute][checkpoint]") {
  std::vector<float> values[3], buffers[3];
  for (int mode = 0; mode < 3; ++mode) {  // normal, recompute, checkpointed block groups
    const std::string dir = "/tmp/asn_recompute_" + std::to_string(mode);
    fs::remove_all(dir);
    json cfg = small_config(dir);
    cfg["train"]["epochs"] = 1;
    cfg["train"]["recompute_activations"] = mode == 1;
    cfg["train"]["checkpoint_blocks"] = mode == 2;
    Trainer t(cfg, "");
    TrainOutcome o = t.run();
    REQUIRE(o.exit_code == 0);
    REQUIRE(o.steps == 8);
    values[mode] = flat_values(t);
    buffers[mode] = flat_buffers(t);
    fs::remove_all(dir);
  }
  REQUIRE(values[0] == values[1]);
  REQUIRE(buffers[0] == buffers[1]);
  REQUIRE(values[0] == values[2]);
  REQUIRE(buffers[0] == buffers[2]);
}

TEST_CASE("trainer: a weight average (EMA) is validated, checkpointed and resumed exactly", "[trainer][ema]") {
  const std::string a = "/tmp/asn_ema_a", b = "/tmp/asn_ema_b";
  fs::remove_all(a);
  fs::remove_all(b);
  auto cfg_for = [](const std::string& dir) {
    json cfg = small_config(dir);
    cfg["train"]["ema_decay"] = 0.6;
    cfg["train"]["ema_dynamic_decay"] = false;
    return cfg;
  };
  std::vector<float> values_a, probs_a;
  {
    Trainer t(cfg_for(a), "");
    REQUIRE(t.run().exit_code == 0);
    values_a = flat_values(t);
    // Validation runs on the average and leaves the weights exactly as they were.
    const EvalResult ev = t.evaluate_now();
    REQUIRE(flat_values(t) == values_a);
    probs_a = ev.probabilities;
    // The same network loaded from the final checkpoint: with the average, the same
    // probabilities; with the raw weights, different ones.
    const std::string last = CheckpointManager::latest(a);
    json unused;
    auto with_ema = network_from_checkpoint(last, Device::cpu(), &unused, true);
    auto raw = network_from_checkpoint(last, Device::cpu(), &unused, false);
    REQUIRE(raw->parameters().values().to_vector<float>() == values_a);
    REQUIRE(with_ema->parameters().values().to_vector<float>() != values_a);
  }
  {
    Trainer t(cfg_for(b), "");
    t.stop_after_step(5);
    REQUIRE(t.run().exit_code == kExitInterrupted);
  }
  {
    Trainer t(cfg_for(b), "", b);
    REQUIRE(t.run().exit_code == 0);
    REQUIRE(flat_values(t) == values_a);
    REQUIRE(t.evaluate_now().probabilities == probs_a);  // so the average resumed bit for bit too
  }
  // Resuming a run without an average into one with it is a clear error; a bad decay is rejected.
  json plain = small_config(b + "_plain");
  plain["train"]["epochs"] = 1;
  {
    Trainer t(plain, "");
    REQUIRE(t.run().exit_code == 0);
  }
  REQUIRE_THROWS_WITH(Trainer(cfg_for(b + "_x"), "", b + "_plain"), Catch::Contains("holds no average"));
  json bad = small_config(b + "_bad");
  bad["train"]["ema_decay"] = 1.5;
  REQUIRE_THROWS_WITH(Trainer(bad, ""), Catch::Contains("train.ema_decay must be in [0, 1)"));
  for (const std::string& d : {a, b, b + "_plain", b + "_x", b + "_bad"}) fs::remove_all(d);
}

TEST_CASE("trainer: a bad resume target is a clear error", "[trainer][errors]") {
  const std::string dir = "/tmp/asn_bad_resume";
  fs::remove_all(dir);
  fs::create_directories(dir);
  REQUIRE_THROWS_WITH(Trainer(small_config(dir + "/run"), "", dir), Catch::Contains("holds no checkpoint"));
  std::ofstream(dir + "/broken.safetensors") << "not a checkpoint";
  REQUIRE_THROWS_WITH(Trainer(small_config(dir + "/run"), "", dir + "/broken.safetensors"),
                      Catch::Contains("broken.safetensors"));
  json cfg = small_config(dir + "/run");
  cfg["train"]["loss"] = "hinge";
  REQUIRE_THROWS_WITH(Trainer(cfg, ""), Catch::Contains("train.loss must be auto, softmax or sigmoid"));
  fs::remove_all(dir);
}

TEST_CASE("trainer: resuming a folder skips a damaged newest checkpoint; a damaged file is an error",
          "[trainer][resume][errors]") {
  const std::string dir = "/tmp/asn_damaged_resume";
  fs::remove_all(dir);
  json cfg = small_config(dir);
  cfg["train"]["epochs"] = 1;
  cfg["checkpoint"]["every_steps"] = 3;  // checkpoints after steps 3, 6 and at the end (8)
  std::vector<float> values_at_6;
  {
    Trainer t(cfg, "");
    t.stop_after_step(6);
    REQUIRE(t.run().exit_code == kExitInterrupted);
    values_at_6 = flat_values(t);
  }
  const std::vector<std::string> all = CheckpointManager::list(dir);
  REQUIRE(all.size() >= 2);
  const std::string newest = all.back();
  REQUIRE(newest.find("ckpt-00000006") != std::string::npos);
  flip_bits(newest, 3, 0x10);  // one byte inside the last tensor's data
  REQUIRE_THROWS_WITH(Trainer(cfg, "", newest), Catch::Contains("ckpt-00000006") && Catch::Contains("damaged"));
  {
    Trainer t(cfg, "", dir);  // falls back to step 3
    REQUIRE(t.state().step == 3);
    REQUIRE(t.run().exit_code == 0);
  }
  // Every checkpoint damaged: a clear error listing them.
  for (const std::string& p : CheckpointManager::list(dir)) flip_bits(p, 1, 0x01);
  REQUIRE_THROWS_WITH(Trainer(cfg, "", dir), Catch::Contains("holds no intact checkpoint") && Catch::Contains("damaged"));
  fs::remove_all(dir);
}

TEST_CASE("trainer: a shorter demo run learns the synthetic task", "[trainer][slow]") {
  const std::string dir = "/tmp/asn_learns";
  fs::remove_all(dir);
  json user = json::object();
  user["output_dir"] = dir;
  user["structure"] = std::string(ASN_SOURCE_DIR) + "/structures/demo_synthetic.json";
  user["train"] = {{"epochs", 2}, {"device", "cpu"}};
  user["data"] = {{"synthetic", {{"num_train", 1024}, {"num_val", 256}}}};
  Trainer t(resolve_config(user), "");
  TrainOutcome o = t.run();
  REQUIRE(o.exit_code == 0);
  REQUIRE(o.evaluated);
  INFO(o.last_eval.str());
  REQUIRE(o.last_loss < 0.8);           // from ln(4) = 1.386 at the start
  REQUIRE(o.last_eval.top1 > 0.6);      // chance is 0.25
  fs::remove_all(dir);
}
