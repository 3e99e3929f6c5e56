// The training loop (see trainer.h).
#include "apps/trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/ranges.h>

#include "apps/trainer/config.h"
#include "apps/trainer/run_log.h"
#include "apps/trainer/signals.h"
#include "autograd/functions/loss.h"
#include "autograd/optim/clip.h"
#include "autograd/optim/lr_schedule.h"
#include "autograd/optim/optimizer_config.h"
#include "autograd/checkpoint.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/data/config.h"
#include "engine/io/safetensors.h"
#include "engine/log.h"
#include "engine/parallel.h"
#include "engine/runtime_flags.h"

namespace asn::train {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  if (!base_dir.empty() && fs::exists(fs::path(base_dir) / path)) return (fs::path(base_dir) / path).string();
  if (fs::exists(path)) return path;
#ifdef ASN_SOURCE_DIR
  // Paths like "structures/demo_synthetic.json" also work from outside the source tree.
  if (fs::exists(fs::path(ASN_SOURCE_DIR) / path)) return (fs::path(ASN_SOURCE_DIR) / path).string();
#endif
  return path;
}

namespace {

Device pick_device(const std::string& name) {
  if (name == "auto") return default_device();
  Device d = Device::parse(name);
  if (d.is_cuda()) {
    ASN_CHECK(cuda_device_count() > d.index, "train.device is '{}' but {} CUDA device(s) are available", name,
              cuda_device_count());
  }
  return d;
}

// The structure of a config, with the head sized for the dataset.
graph::Structure load_run_structure(const json& config, const std::string& base_dir, int num_classes) {
  graph::Structure s = graph::load_structure(resolve_path(base_dir, config["structure"].get<std::string>()));
  if (num_classes > 0 && s.num_classes != num_classes) {
    ASN_LOG_INFO("structure {}: head resized from {} to the dataset's {} classes", s.name, s.num_classes, num_classes);
    s.num_classes = num_classes;
  }
  return s;
}

}  // namespace

struct Trainer::Impl {
  graph::Structure structure;
  std::unique_ptr<graph::Network> net;
  data::DatasetPair datasets;
  std::unique_ptr<data::DataLoader> train_loader, val_loader;
  std::unique_ptr<ag::Optimizer> opt;
  std::unique_ptr<ag::Ema> ema;  // null unless train.ema_decay > 0
  std::unique_ptr<ag::LrSchedule> schedule;
  std::unique_ptr<CheckpointManager> ckpt;
  std::unique_ptr<RunLog> log;
  Generator dropout_gen;
  std::string run_dir;
  std::string loss_kind;
  int64_t total_steps = 0;
};

Trainer::Trainer(json config, std::string base_dir, std::string resume)
    : config_(std::move(config)), base_dir_(std::move(base_dir)), resume_(std::move(resume)), impl_(new Impl) {
  Impl& m = *impl_;
  const json& tr = config_["train"];
  if (tr["threads"].get<int>() > 0) set_num_threads(tr["threads"].get<int>());
  set_deterministic(tr["deterministic"].get<bool>());
  device_ = pick_device(tr["device"].get<std::string>());
  const uint64_t seed = tr["seed"].get<uint64_t>();

  // Data first: the network's input size and head width come from it.
  m.datasets = data::make_datasets(config_["data"]);
  const data::Dataset& train_ds = *m.datasets.train;
  const data::ClipOptions& clip = train_ds.clip_options();
  m.structure = load_run_structure(config_, base_dir_, train_ds.num_classes());
  if (m.structure.object_input) {
    ASN_CHECK(train_ds.num_object_classes() == m.structure.num_object_classes,
              "structure {} takes {} object classes but the dataset provides {} (data.objects / synthetic.objects)",
              m.structure.name, m.structure.num_object_classes, train_ds.num_object_classes());
  }
  m.net = std::make_unique<graph::Network>(m.structure, graph::InputSpec{clip.num_frames, clip.height, clip.width});
  m.net->initialize(DType::f32, device_, seed);

  data::LoaderOptions lo = data::loader_options_from_json(config_["loader"]);
  lo.mode = data::Mode::kTrain;
  lo.seed = seed;
  m.train_loader = std::make_unique<data::DataLoader>(m.datasets.train, lo);
  if (m.datasets.val) {
    data::LoaderOptions vo = lo;
    vo.mode = data::Mode::kEval;
    vo.shuffle = false;
    vo.drop_last = false;
    vo.batch_size = tr["eval_batch_size"].get<int>();
    m.val_loader = std::make_unique<data::DataLoader>(m.datasets.val, vo);
  }

  const std::string loss = tr["loss"].get<std::string>();
  ASN_CHECK(loss == "auto" || loss == "softmax" || loss == "sigmoid", "train.loss must be auto, softmax or sigmoid, got '{}'",
            loss);
  m.loss_kind = loss == "auto" ? (train_ds.is_multilabel() ? "sigmoid" : "softmax") : loss;
  ASN_CHECK(!(m.loss_kind == "softmax" && train_ds.is_multilabel()),
            "train.loss softmax needs single-label data; this dataset is multi-label (use sigmoid)");

  m.opt = ag::make_optimizer(config_["optimizer"], m.net->parameters());
  const double ema_decay = tr["ema_decay"].get<double>();
  ASN_CHECK(ema_decay >= 0 && ema_decay < 1, "train.ema_decay must be in [0, 1) (0: no weight average), got {}",
            ema_decay);
  if (ema_decay > 0) {
    m.ema = std::make_unique<ag::Ema>(m.net->parameters(),
                                      ag::EmaOptions{ema_decay, tr["ema_dynamic_decay"].get<bool>()});
  }
  const int accumulate = tr["accumulate"].get<int>();
  ASN_CHECK(accumulate >= 1, "train.accumulate must be >= 1, got {}", accumulate);
  const int64_t steps_per_epoch = std::max<int64_t>(1, m.train_loader->num_batches() / accumulate);
  m.total_steps = steps_per_epoch * tr["epochs"].get<int64_t>();
  if (tr["max_steps"].get<int64_t>() > 0) m.total_steps = std::min(m.total_steps, tr["max_steps"].get<int64_t>());
  json sched = config_["lr_schedule"];
  if (sched.contains("total_steps") && sched["total_steps"].get<int64_t>() < 0) sched["total_steps"] = m.total_steps;
  config_["lr_schedule"] = sched;
  m.schedule = ag::make_lr_schedule(sched);

  m.run_dir = config_["output_dir"].get<std::string>();
  std::error_code ec;
  fs::create_directories(m.run_dir, ec);
  if (ec) ASN_THROW(IoError, "cannot create the run folder '{}': {}", m.run_dir, ec.message());
  const json& ck = config_["checkpoint"];
  m.ckpt = std::make_unique<CheckpointManager>(m.run_dir, ck["keep_last"].get<int>(), ck["keep_best"].get<bool>());
  m.dropout_gen = Generator(seed ^ 0x9E3779B97F4A7C15ull);

  if (!resume_.empty()) {
    // A folder resumes from its newest intact checkpoint: a damaged newer one (a flipped bit on
    // disk; writes are atomic, so never a partial one) is reported and skipped. An explicit file
    // must be intact.
    std::string path = resume_;
    io::SafetensorsFile file;
    if (fs::is_directory(resume_)) {
      std::vector<std::string> damaged;
      path = CheckpointManager::latest_intact(resume_, &damaged, &file);
      for (const std::string& d : damaged) ASN_LOG_WARN("--resume {}: skipping a damaged checkpoint: {}", resume_, d);
      ASN_CHECK(!path.empty(), "--resume {}: the folder holds no {}checkpoint (ckpt-*.safetensors){}", resume_,
                damaged.empty() ? "" : "intact ", damaged.empty() ? "" : fmt::format("; damaged: {}", fmt::join(damaged, "; ")));
    }
    if (file.source.empty()) file = io::load_safetensors(path);  // read once either way
    CheckpointInfo info = load_checkpoint(file, m.net->parameters(), m.opt.get(), m.ema.get());
    state_ = info.state;
    m.dropout_gen.set_state(state_.rng_seed, state_.rng_offset);
    ASN_LOG_INFO("resumed from {} at step {} (epoch {}, batch {})", path, state_.step, state_.epoch, state_.batch_in_epoch);
  }
  m.log = std::make_unique<RunLog>(m.run_dir, /*append=*/!resume_.empty());
  io::write_file_atomic(m.run_dir + "/config.json", config_.dump(2) + "\n");
}

Trainer::~Trainer() = default;

graph::Network& Trainer::network() { return *impl_->net; }

EvalResult Trainer::evaluate_now() {
  ASN_CHECK(impl_->val_loader != nullptr, "no validation set configured (data.val)");
  // With a weight average, validation (and the best checkpoint's metric) uses the average.
  ag::EmaSwap swap(impl_->net->parameters(), impl_->ema.get());
  return evaluate(*impl_->net, *impl_->val_loader, device_, config_["train"]["eval_aggregate"].get<std::string>());
}

TrainOutcome Trainer::run() {
  Impl& m = *impl_;
  const json& tr = config_["train"];
  const int64_t epochs = tr["epochs"].get<int64_t>();
  const int accumulate = tr["accumulate"].get<int>();
  const int log_every = std::max(1, tr["log_every"].get<int>());
  const int eval_every = tr["eval_every"].get<int>();
  const double smoothing = tr["label_smoothing"].get<double>();
  const double clip_norm = tr["clip_grad_norm"].get<double>();
  const int64_t every_steps = config_["checkpoint"]["every_steps"].get<int64_t>();
  const int64_t max_steps = tr["max_steps"].get<int64_t>();
  const bool recompute_activations = tr["recompute_activations"].get<bool>();
  const bool checkpoint_blocks = tr["checkpoint_blocks"].get<bool>();
  const int every_epochs = config_["checkpoint"]["every_epochs"].get<int>();
  const json structure_json = graph::to_json(m.structure);
  const json clip_json = data::clip_options_to_json(m.datasets.train->clip_options());

  TrainOutcome out;
  const auto t_start = Clock::now();
  auto window_start = Clock::now();
  double window_loss = 0, window_wait = 0;
  int64_t window_steps = 0, window_clips = 0;
  ag::Parameters& params = m.net->parameters();

  auto save = [&](bool best) {
    state_.rng_seed = m.dropout_gen.seed();
    state_.rng_offset = m.dropout_gen.offset();
    const std::string path =
        best ? m.ckpt->save_best(params, m.opt.get(), state_, config_, structure_json, clip_json, m.ema.get())
             : m.ckpt->save(params, m.opt.get(), state_, config_, structure_json, clip_json, m.ema.get());
    if (!best) out.last_checkpoint = path;
    return path;
  };
  auto finish = [&](int code) {
    m.log->end_progress();
    out.exit_code = code;
    out.steps = state_.step;
    out.epochs_done = state_.epoch;
    out.best_metric = state_.best_metric;
    out.data_failures = m.train_loader->failure_count();
    out.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
    if (out.data_failures > 0) {
      ASN_LOG_WARN("{} training items failed to load and were replaced:", out.data_failures);
      for (const std::string& name : m.train_loader->failed_items()) ASN_LOG_WARN("  {}", name);
    }
    return out;
  };

  params.zero_grad();
  for (int64_t epoch = state_.epoch; epoch < epochs; ++epoch) {
    m.train_loader->start_epoch(epoch, state_.batch_in_epoch);
    int micro = 0;
    data::Batch batch;
    bool stop_for_max_steps = false;
    while (true) {
      if (micro == 0 && max_steps > 0 && state_.step >= max_steps) {
        stop_for_max_steps = true;
        break;
      }
      if (!m.train_loader->next(batch)) break;
      ag::tape().clear();
      graph::NetworkInputs in;
      in.rgb = ag::Variable(batch.clips.to(device_));
      if (batch.objects.defined()) in.objects = ag::Variable(batch.objects.to(device_));
      ag::Variable logits;
      {
        ag::RecomputeGuard recompute(recompute_activations);
        ag::CheckpointGuard checkpoint(checkpoint_blocks);
        logits = m.net->forward(in, /*training=*/true, &m.dropout_gen).logits;
      }
      const Tensor labels = batch.labels.to(device_);
      ag::Variable loss = m.loss_kind == "softmax" ? ag::softmax_cross_entropy(logits, labels, smoothing)
                                                   : ag::sigmoid_binary_cross_entropy(logits, labels);
      const double loss_value = loss.value().item();
      if (!std::isfinite(loss_value)) {
        ASN_THROW(ValueError, "training diverged: the loss is {} at step {} (epoch {}, batch {}); lower the learning "
                  "rate or enable train.clip_grad_norm", loss_value, state_.step, epoch, state_.batch_in_epoch);
      }
      ag::backward(loss, Tensor::full(Shape{1}, 1.0 / accumulate, loss.dtype(), loss.device()));
      ++micro;
      ++state_.batch_in_epoch;
      window_loss += loss_value;
      window_wait += batch.wait_s;
      window_clips += batch.clips.dim(0);
      out.last_loss = loss_value;
      if (micro < accumulate) continue;

      // One optimizer step.
      micro = 0;
      if (clip_norm > 0) ag::clip_grad_norm(params, clip_norm);
      const double lr = m.schedule->lr(state_.step);
      m.opt->step(lr);
      if (m.ema) m.ema->update();
      params.zero_grad();
      ++state_.step;
      ++window_steps;
      if (state_.step % log_every == 0 || state_.step == m.total_steps) {
        const double secs = std::chrono::duration<double>(Clock::now() - window_start).count();
        const double avg_loss = window_loss / static_cast<double>(window_steps * accumulate);
        const double step_s = secs / static_cast<double>(window_steps);
        m.log->record("train", state_.step,
                      json{{"loss", avg_loss}, {"lr", lr}, {"epoch", epoch}, {"clips_per_s", window_clips / secs},
                           {"data_wait_fraction", window_wait / secs}, {"step_seconds", step_s}});
        m.log->progress(state_.step, m.total_steps, epoch, avg_loss, lr, window_clips / secs, window_wait / secs,
                        step_s * static_cast<double>(m.total_steps - state_.step));
        window_start = Clock::now();
        window_loss = window_wait = 0;
        window_steps = window_clips = 0;
      }
      if (every_steps > 0 && state_.step % every_steps == 0) save(false);
      if (stop_requested() || (stop_after_ >= 0 && state_.step >= stop_after_)) {
        m.log->end_progress();
        const std::string path = save(false);
        ASN_LOG_WARN("{}: stopped after step {}, checkpoint {}; continue with --resume {}",
                     stop_requested() ? fmt::format("signal {} received", stop_signal()) : std::string("stop requested"),
                     state_.step, path, m.run_dir);
        return finish(kExitInterrupted);
      }
    }
    if (micro > 0) {  // the epoch ended inside an accumulation: apply what was accumulated
      const double lr = m.schedule->lr(state_.step);
      m.opt->step(lr);
      if (m.ema) m.ema->update();
      params.zero_grad();
      ++state_.step;
    }
    if (stop_for_max_steps) break;
    state_.epoch = epoch + 1;
    state_.batch_in_epoch = 0;
    const bool last = epoch + 1 == epochs;
    if (m.val_loader && eval_every > 0 && ((epoch + 1) % eval_every == 0 || last)) {
      m.log->end_progress();
      EvalResult ev = evaluate_now();
      m.log->record("val", state_.step, ev.to_json());
      ASN_LOG_INFO("epoch {}/{}: validation {}", epoch + 1, epochs, ev.str());
      out.last_eval = ev;
      out.evaluated = true;
      if (ev.primary() > state_.best_metric) {
        state_.best_metric = ev.primary();
        state_.best_step = state_.step;
        save(true);
      }
    }
    if (every_epochs > 0 && ((epoch + 1) % every_epochs == 0 || last)) save(false);
  }
  if (out.last_checkpoint.empty() || CheckpointManager::latest(m.run_dir) != out.last_checkpoint) save(false);
  return finish(0);
}

std::unique_ptr<graph::Network> network_from_checkpoint(const std::string& checkpoint, Device device,
                                                        json* config_out, bool use_ema, CheckpointInfo* info_out) {
  const io::SafetensorsFile file = io::load_safetensors(checkpoint);  // read (and checked) once
  CheckpointInfo info = checkpoint_info(file);
  graph::Structure s = graph::parse_structure(info.structure, checkpoint + " (structure)");
  ASN_CHECK(!info.clip.empty(), "{}: the checkpoint does not record its clip options (not written by asn-train)",
            checkpoint);
  data::ClipOptions clip = data::clip_options_from_json(info.clip, data::ClipOptions{}, checkpoint + " clip");
  auto net = std::make_unique<graph::Network>(s, graph::InputSpec{clip.num_frames, clip.height, clip.width});
  net->initialize(DType::f32, device, 0);
  load_checkpoint(file, net->parameters(), nullptr);
  if (use_ema && load_ema_weights(file, net->parameters()))
    ASN_LOG_INFO("{}: evaluating the moving average of the weights (--no-ema for the raw weights)", checkpoint);
  if (config_out) *config_out = info.config;
  if (info_out) *info_out = info;
  return net;
}

}  // namespace asn::train
