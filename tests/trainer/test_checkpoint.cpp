// Checkpoints: exact round trip of parameters, buffers, optimizer state and training position;
// keep-last pruning; clear errors for truncated, corrupt and mismatched files.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/trainer/checkpoint.h"
#include "autograd/optim/sgd.h"
#include "engine/io/safetensors.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::train;
namespace fs = std::filesystem;

namespace {
struct Model {
  ag::Parameters ps;
  Model(uint64_t seed) {
    ps.add("w", Shape{3, 4}, ag::init::uniform(-1, 1));
    ps.add("b", Shape{4}, ag::init::uniform(-1, 1), ag::ParamOptions{true, false});
    ps.add_buffer("bn/moving_mean", Shape{4}, ag::init::uniform(0, 1));
    Generator g(seed);
    ps.finalize(DType::f32, Device::cpu(), g);
  }
};
}  // namespace

TEST_CASE("checkpoint: round trip restores everything exactly", "[trainer][checkpoint]") {
  const std::string dir = "/tmp/asn_ckpt_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Model a(1);
  ag::Sgd opt(a.ps, ag::SgdOptions{0.9, true, 1e-4});
  a.ps.grads().copy_from(test::random_uniform(Shape{a.ps.num_trainable()}, 3, -1, 1, DType::f32));
  opt.step(0.1);
  opt.step(0.05);
  TrainingState st{2, 1, 7, 99, 12345, 0.75, 1};
  const std::string path = dir + "/x.safetensors";
  save_checkpoint(path, a.ps, &opt, st, nlohmann::json{{"k", 1}}, nlohmann::json{{"family", "assemblenet"}});

  Model b(2);
  ag::Sgd opt_b(b.ps, ag::SgdOptions{0.9, true, 1e-4});
  CheckpointInfo info = load_checkpoint(path, b.ps, &opt_b);
  REQUIRE(b.ps.values().to_vector<float>() == a.ps.values().to_vector<float>());
  REQUIRE(b.ps.buffers().to_vector<float>() == a.ps.buffers().to_vector<float>());
  REQUIRE(opt_b.step_count() == 2);
  REQUIRE(opt_b.state_tensors()[0].second.to_vector<float>() == opt.state_tensors()[0].second.to_vector<float>());
  REQUIRE(info.state.step == 2);
  REQUIRE(info.state.epoch == 1);
  REQUIRE(info.state.batch_in_epoch == 7);
  REQUIRE(info.state.rng_seed == 99);
  REQUIRE(info.state.rng_offset == 12345);
  REQUIRE(info.state.best_metric == 0.75);
  REQUIRE(info.config["k"] == 1);
  REQUIRE(info.structure["family"] == "assemblenet");
  // The same step continues identically.
  a.ps.grads().fill(0.5);
  b.ps.grads().fill(0.5);
  opt.step(0.01);
  opt_b.step(0.01);
  REQUIRE(b.ps.values().to_vector<float>() == a.ps.values().to_vector<float>());
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: manager keeps the last N and finds the latest", "[trainer][checkpoint]") {
  const std::string dir = "/tmp/asn_ckpt_mgr";
  fs::remove_all(dir);
  Model a(1);
  CheckpointManager m(dir, 2, true);
  for (int64_t step : {10, 20, 30}) {
    TrainingState st;
    st.step = step;
    m.save(a.ps, nullptr, st, nlohmann::json::object(), nlohmann::json::object());
  }
  auto all = CheckpointManager::list(dir);
  REQUIRE(all.size() == 2);
  REQUIRE(CheckpointManager::latest(dir) == dir + "/ckpt-00000030.safetensors");
  m.save_best(a.ps, nullptr, TrainingState{}, nlohmann::json::object(), nlohmann::json::object());
  REQUIRE(fs::exists(dir + "/best.safetensors"));
  REQUIRE(CheckpointManager::latest("/tmp/asn_no_such_dir").empty());
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: truncated, corrupt and mismatched files give clear errors", "[trainer][checkpoint][errors]") {
  const std::string dir = "/tmp/asn_ckpt_bad";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Model a(1);
  const std::string path = dir + "/good.safetensors";
  save_checkpoint(path, a.ps, nullptr, TrainingState{}, nlohmann::json::object(), nlohmann::json::object());
  // Truncated copy.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string trunc = dir + "/trunc.safetensors";
  std::ofstream(trunc, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  Model b(2);
  REQUIRE_THROWS_WITH(load_checkpoint(trunc, b.ps, nullptr), Catch::Contains("trunc.safetensors") && Catch::Contains("truncated"));
  // Garbage.
  const std::string garbage = dir + "/garbage.safetensors";
  std::ofstream(garbage, std::ios::binary) << "this is not a checkpoint at all";
  REQUIRE_THROWS_WITH(read_checkpoint_info(garbage), Catch::Contains("garbage.safetensors"));
  // A plain safetensors file without checkpoint metadata.
  const std::string plain = dir + "/plain.safetensors";
  io::save_safetensors(plain, {{"w", Tensor::zeros(Shape{3, 4})}});
  REQUIRE_THROWS_WITH(read_checkpoint_info(plain), Catch::Contains("not an asn checkpoint"));
  // A different model.
  ag::Parameters other;
  other.add("w", Shape{5}, ag::init::zeros());
  Generator g(1);
  other.finalize(DType::f32, Device::cpu(), g);
  REQUIRE_THROWS_WITH(load_checkpoint(path, other, nullptr), Catch::Contains("'w'") && Catch::Contains("(3, 4)"));
  // Asking for optimizer state that was not saved.
  ag::Sgd opt(b.ps, ag::SgdOptions{});
  REQUIRE_THROWS_WITH(load_checkpoint(path, b.ps, &opt), Catch::Contains("metadata 'optimizer' is missing"));
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: a manager removes temporaries of killed writers, not live ones", "[trainer][checkpoint]") {
  const std::string dir = "/tmp/asn_ckpt_stale";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string dead = dir + "/ckpt-00000004.safetensors.tmp.2147483000";  // no such process
  const std::string live = dir + "/ckpt-00000005.safetensors.tmp." + std::to_string(::getpid());
  const std::string other = dir + "/notes.tmp.1";
  for (const std::string& p : {dead, live, other}) std::ofstream(p) << "partial";
  CheckpointManager m(dir, 2, false);
  REQUIRE_FALSE(fs::exists(dead));
  REQUIRE(fs::exists(live));
  REQUIRE(fs::exists(other));
  REQUIRE(CheckpointManager::remove_stale_temporaries(dir).empty());
  fs::remove_all(dir);
}
