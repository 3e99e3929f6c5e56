// asn-train: train, evaluate and use AssembleNet-family networks.
//
//   asn-train train [--config FILE] [key.path=value ...] [--resume RUN_DIR|CHECKPOINT]
//   asn-train eval CHECKPOINT [--config FILE] [key.path=value ...]
//   asn-train predict CHECKPOINT VIDEO [--top 5] [--class-names FILE]
//   asn-train check-data [--config FILE] [key.path=value ...]
//
// Without --config the built-in defaults train a small AssembleNet (RGB + flow stems) on the
// synthetic moving-shapes dataset. Exit codes: 0 done, 1 a data check found problems, 2 an error,
// 75 interrupted by SIGINT/SIGTERM after writing a checkpoint (resume with --resume).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "apps/trainer/config.h"
#include "apps/trainer/signals.h"
#include "apps/trainer/trainer.h"
#include "engine/data/check.h"
#include "engine/data/config.h"
#include "engine/data/video_dataset.h"
#include "engine/log.h"
#include "engine/parallel.h"

using namespace asn;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The resolved config: defaults <- file <- overrides.
json build_config(const std::string& file, const std::vector<std::string>& overrides, std::string* base_dir) {
  json user = file.empty() ? json::object() : train::load_config_file(file);
  train::apply_overrides(user, overrides);
  *base_dir = file.empty() ? "" : fs::path(file).parent_path().string();
  return train::resolve_config(user);
}

int cmd_train(const std::string& config_file, const std::vector<std::string>& overrides, const std::string& resume) {
  std::string base_dir;
  json config;
  if (config_file.empty() && !resume.empty()) {
    // Resuming without a config continues with the checkpoint's own.
    const std::string path = fs::is_directory(resume) ? train::CheckpointManager::latest(resume) : resume;
    ASN_CHECK(!path.empty(), "--resume {}: the folder holds no checkpoint", resume);
    json user = train::read_checkpoint_info(path).config;
    train::apply_overrides(user, overrides);
    config = train::resolve_config(user);
  } else {
    config = build_config(config_file, overrides, &base_dir);
  }
  train::install_stop_handlers();
  train::Trainer trainer(config, base_dir, resume);
  ASN_LOG_INFO("training {} on {} ({} trainable parameters), run folder {}",
               trainer.network().structure().name, trainer.device().str(),
               trainer.network().trainable_parameter_count(), config["output_dir"].get<std::string>());
  train::TrainOutcome out = trainer.run();
  if (out.exit_code == train::kExitInterrupted) return out.exit_code;
  std::cout << fmt::format("done: {} steps in {:.1f} s, last loss {:.4f}", out.steps, out.seconds, out.last_loss);
  if (out.evaluated) std::cout << fmt::format("; validation {}; best {:.2f}%", out.last_eval.str(), 100 * out.best_metric);
  std::cout << fmt::format("\ncheckpoint: {}\n", out.last_checkpoint);
  return 0;
}

int cmd_eval(const std::string& checkpoint, const std::string& config_file, const std::vector<std::string>& overrides,
             const std::string& device_name, bool use_ema) {
  json ck_config;
  const Device device = device_name == "auto" ? default_device() : Device::parse(device_name);
  auto net = train::network_from_checkpoint(checkpoint, device, &ck_config, use_ema);
  json user = config_file.empty() ? ck_config : train::load_config_file(config_file);
  train::apply_overrides(user, overrides);
  json config = train::resolve_config(user);
  data::DatasetPair ds = data::make_datasets(config["data"]);
  ASN_CHECK(ds.val != nullptr, "eval: the data config has no validation set (data.val)");
  data::LoaderOptions lo = data::loader_options_from_json(config["loader"]);
  lo.mode = data::Mode::kEval;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.batch_size = config["train"]["eval_batch_size"].get<int>();
  data::DataLoader loader(ds.val, lo);
  train::EvalResult r = train::evaluate(*net, loader, device, config["train"]["eval_aggregate"].get<std::string>());
  std::cout << r.str() << "\n" << r.to_json().dump() << "\n";
  if (loader.failure_count() > 0) {
    std::cout << fmt::format("{} items could not be loaded and were left out:\n", loader.failure_count());
    for (const auto& n : loader.failed_items()) std::cout << "  " << n << "\n";
  }
  return 0;
}

int cmd_predict(const std::string& checkpoint, const std::string& video, int top, const std::string& names_file,
                const std::string& device_name, bool use_ema) {
  json config;
  const Device device = device_name == "auto" ? default_device() : Device::parse(device_name);
  train::CheckpointInfo info;
  auto net = train::network_from_checkpoint(checkpoint, device, &config, use_ema, &info);
  data::VideoDatasetOptions vo;
  vo.clip = data::clip_options_from_json(info.clip, data::ClipOptions{}, "checkpoint clip");
  const int K = net->structure().num_classes;
  std::vector<std::string> names;
  if (!names_file.empty()) {
    std::ifstream f(names_file);
    ASN_CHECK(f.good(), "cannot open class names file '{}'", names_file);
    for (std::string line; std::getline(f, line);) names.push_back(line);
  }
  data::VideoItem item;
  item.path = video;
  item.labels = {0};
  item.source = "command line";
  auto ds = std::make_shared<data::VideoFileDataset>(std::vector<data::VideoItem>{item}, data::LabelKind::kSingle, K,
                                                     std::vector<std::string>{}, vo);
  data::LoaderOptions lo;
  lo.mode = data::Mode::kEval;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.batch_size = std::max(1, vo.clip.num_views());
  lo.num_workers = 0;
  lo.failures.min_attempts = 1;
  lo.failures.max_failure_rate = 0;
  data::DataLoader loader(ds, lo);
  train::EvalResult r = train::evaluate(*net, loader, device, config["train"]["eval_aggregate"].get<std::string>());
  ASN_CHECK(r.items == 1, "predict: '{}' could not be read", video);
  std::vector<int> order(static_cast<size_t>(K));
  for (int k = 0; k < K; ++k) order[static_cast<size_t>(k)] = k;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return r.probabilities[static_cast<size_t>(a)] > r.probabilities[static_cast<size_t>(b)]; });
  std::cout << fmt::format("{} ({} views):\n", video, r.views);
  for (int i = 0; i < std::min(top, K); ++i) {
    const int k = order[static_cast<size_t>(i)];
    const std::string label = static_cast<size_t>(k) < names.size() ? names[static_cast<size_t>(k)] : fmt::format("class {}", k);
    std::cout << fmt::format("  {:>2}. {:<32} {:6.2f}%\n", i + 1, label, 100 * r.probabilities[static_cast<size_t>(k)]);
  }
  return 0;
}

int cmd_check_data(const std::string& config_file, const std::vector<std::string>& overrides, int threads) {
  std::string base_dir;
  json config = build_config(config_file, overrides, &base_dir);
  data::DatasetPair ds = data::make_datasets(config["data"]);
  data::CheckOptions co;
  co.num_threads = threads;
  bool ok = true;
  for (auto [name, d] : {std::pair<const char*, std::shared_ptr<data::Dataset>>{"train", ds.train}, {"val", ds.val}}) {
    if (!d) continue;
    data::DatasetReport rep = data::check_dataset(*d, co);
    std::cout << fmt::format("{} set:\n{}\n", name, rep.summary());
    ok = ok && rep.all_ok();
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"asn-train: train and evaluate AssembleNet, AssembleNet++ and AssembleNet++Lite"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  auto* train = app.add_subcommand("train", "train a network (defaults: the synthetic-video demo)");
  std::string config_file, resume, device = "auto";
  std::vector<std::string> overrides;
  train->add_option("--config", config_file, "JSON config file (see docs/asn-train.md)");
  train->add_option("--resume", resume, "run folder or checkpoint to continue from");
  train->add_option("overrides", overrides, "key.path=value overrides of the config");

  auto* eval = app.add_subcommand("eval", "evaluate a checkpoint on its (or a given) validation set");
  std::string eval_ckpt;
  eval->add_option("checkpoint", eval_ckpt, "checkpoint file")->required();
  eval->add_option("--config", config_file, "config whose data section to evaluate on (default: the checkpoint's)");
  eval->add_option("--device", device, "auto, cpu or cuda[:N]")->capture_default_str();
  eval->add_option("overrides", overrides, "key.path=value overrides");
  bool no_ema = false;
  eval->add_flag("--no-ema", no_ema, "use the raw weights even when the checkpoint holds their moving average");

  auto* predict = app.add_subcommand("predict", "top classes of one video");
  std::string pred_ckpt, video, names;
  int top = 5;
  predict->add_option("checkpoint", pred_ckpt, "checkpoint file")->required();
  predict->add_option("video", video, "video file")->required();
  predict->add_option("--top", top, "how many classes to print")->capture_default_str();
  predict->add_option("--class-names", names, "text file with one class name per line");
  predict->add_option("--device", device, "auto, cpu or cuda[:N]")->capture_default_str();
  predict->add_flag("--no-ema", no_ema, "use the raw weights even when the checkpoint holds their moving average");

  auto* check = app.add_subcommand("check-data", "open every video of the configured datasets and report problems");
  int check_threads = 2;
  check->add_option("--config", config_file, "JSON config file");
  check->add_option("--threads", check_threads, "videos checked in parallel")->capture_default_str();
  check->add_option("overrides", overrides, "key.path=value overrides");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    set_log_level(log_level);
    if (*train) return cmd_train(config_file, overrides, resume);
    if (*eval) return cmd_eval(eval_ckpt, config_file, overrides, device, !no_ema);
    if (*predict) return cmd_predict(pred_ckpt, video, top, names, device, !no_ema);
    if (*check) return cmd_check_data(config_file, overrides, check_threads);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
