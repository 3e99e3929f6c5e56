// The training loop of asn-train.
//
// One Trainer owns a run: the resolved configuration, the network built from the structure file,
// the datasets and loaders, the optimizer and LR schedule, the run folder (config.json,
// metrics.jsonl, tensorboard/, checkpoints) and the training position. run() trains until the
// configured epochs (or train.max_steps) are done, evaluating every train.eval_every epochs and
// checkpointing per the checkpoint section, and returns the exit status: 0, or kExitInterrupted
// after SIGINT/SIGTERM (the step in flight finishes and a checkpoint is written first).
//
// Exactness: a CPU run resumed from a checkpoint continues bitwise-identically to an uninterrupted
// one with the same thread count. Everything that decides the next steps is in the checkpoint:
// parameters, BN moving statistics, optimizer state, the position (epoch, batch), the dropout
// generator; the data order and augmentation derive from (seed, epoch, item).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/trainer/checkpoint.h"
#include "apps/trainer/evaluate.h"

namespace asn::train {

struct TrainOutcome {
  int exit_code = 0;
  int64_t steps = 0;
  int64_t epochs_done = 0;
  double last_loss = 0;
  double best_metric = -1;
  EvalResult last_eval;
  bool evaluated = false;
  std::string last_checkpoint;
  int64_t data_failures = 0;
  double seconds = 0;
};

class Trainer {
 public:
  // `config` is resolved (resolve_config); relative paths are resolved against `base_dir`.
  // `resume` names a checkpoint file or a run folder (its newest checkpoint); "" starts fresh.
  Trainer(nlohmann::json config, std::string base_dir, std::string resume = "");
  ~Trainer();

  TrainOutcome run();
  // Behave as if SIGINT arrived right after optimizer step `step` (tests of the interrupt path).
  void stop_after_step(int64_t step) { stop_after_ = step; }
  // Evaluates the current parameters on the validation set.
  EvalResult evaluate_now();

  const nlohmann::json& config() const { return config_; }
  graph::Network& network();
  const TrainingState& state() const { return state_; }
  Device device() const { return device_; }

 private:
  struct Impl;
  nlohmann::json config_;
  std::string base_dir_;
  std::string resume_;
  Device device_;
  TrainingState state_;
  int64_t stop_after_ = -1;
  std::unique_ptr<Impl> impl_;
};

// Builds the network of a resolved config and loads a checkpoint into it (for eval / predict). When
// the checkpoint holds a moving average of the weights (train.ema_decay) and use_ema is set, the
// averaged weights are loaded: the ones validation used during training.
std::unique_ptr<graph::Network> network_from_checkpoint(const std::string& checkpoint, Device device,
                                                        nlohmann::json* config_out, bool use_ema = true,
                                                        CheckpointInfo* info_out = nullptr);

// Resolves a path of the config against the folder the config came from (absolute paths stay).
std::string resolve_path(const std::string& base_dir, const std::string& path);

}  // namespace asn::train
