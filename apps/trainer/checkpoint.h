// Training checkpoints: one safetensors file holding every parameter and buffer (BN moving
// statistics, fixed edge logits, frozen flow parameters) under its model name, the optimizer state
// under `optimizer/<name>`, and in the metadata the training position (step, epoch, batch within the
// epoch), the dropout generator state, the best metric so far, the resolved configuration and the
// structure. Written atomically (engine/io/safetensors.h). Resuming from one continues a CPU run
// bitwise-identically for the same thread count.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/optim/ema.h"
#include "autograd/optim/optimizer.h"
#include "autograd/parameters.h"
#include "engine/io/safetensors.h"

namespace asn::train {

struct TrainingState {
  int64_t step = 0;            // optimizer steps done
  int64_t epoch = 0;           // current epoch (0-based)
  int64_t batch_in_epoch = 0;  // batches of `epoch` already consumed
  uint64_t rng_seed = 0;       // dropout generator
  uint64_t rng_offset = 0;
  double best_metric = -1;     // best validation metric so far (-1: none yet)
  int64_t best_step = -1;
};

// `clip`: the clip options the model was trained with (the input size; for eval and predict).
// `ema`: the moving average of the weights, stored as `ema/<parameter name>` (trainables only) with
// its update count in the metadata.
void save_checkpoint(const std::string& path, const ag::Parameters& params, const ag::Optimizer* optimizer,
                     const TrainingState& state, const nlohmann::json& config, const nlohmann::json& structure,
                     const nlohmann::json& clip = nlohmann::json::object(), const ag::Ema* ema = nullptr);

struct CheckpointInfo {
  TrainingState state;
  nlohmann::json config;
  nlohmann::json structure;
  nlohmann::json clip;  // empty object when not recorded
};

// Reads only the metadata (validates the whole file). IoError names the file and the problem.
CheckpointInfo read_checkpoint_info(const std::string& path);
// The same from a file already read.
CheckpointInfo checkpoint_info(const io::SafetensorsFile& file);
// Restores parameters, buffers and (when given) the optimizer state and the weight average; every
// tensor must be present with the right shape.
CheckpointInfo load_checkpoint(const std::string& path, ag::Parameters& params, ag::Optimizer* optimizer,
                               ag::Ema* ema = nullptr);
// The same from a file already read (io::load_safetensors), so a caller reads it once.
CheckpointInfo load_checkpoint(const io::SafetensorsFile& file, ag::Parameters& params, ag::Optimizer* optimizer,
                               ag::Ema* ema = nullptr);
// When the checkpoint holds a moving average of the weights (ema/<name> tensors), copies it into
// the trainable parameters (evaluation with it) and returns true; otherwise changes nothing.
bool load_ema_weights(const io::SafetensorsFile& file, ag::Parameters& params);

// Files of a run folder: `ckpt-<step:08>.safetensors` (the last `keep_last` are kept) and
// `best.safetensors`.
class CheckpointManager {
 public:
  CheckpointManager(std::string dir, int keep_last, bool keep_best);
  // Writes the step checkpoint and prunes older ones; returns its path.
  std::string save(const ag::Parameters& params, const ag::Optimizer* optimizer, const TrainingState& state,
                   const nlohmann::json& config, const nlohmann::json& structure,
                   const nlohmann::json& clip = nlohmann::json::object(), const ag::Ema* ema = nullptr);
  // Copies the given state as best.safetensors (call when the metric improved).
  std::string save_best(const ag::Parameters& params, const ag::Optimizer* optimizer, const TrainingState& state,
                        const nlohmann::json& config, const nlohmann::json& structure,
                        const nlohmann::json& clip = nlohmann::json::object(), const ag::Ema* ema = nullptr);
  // Deletes the temporaries a killed writer left in `dir` ("<file>.safetensors.tmp.<pid>", see
  // io::write_file_atomic) whose process no longer runs; returns their names. Called when a
  // manager opens its folder.
  static std::vector<std::string> remove_stale_temporaries(const std::string& dir);
  // The newest step checkpoint of `dir`, or "" when there is none.
  static std::string latest(const std::string& dir);
  // The newest step checkpoint of `dir` that reads back intact (structure and per-tensor
  // checksums, engine/io/safetensors.h); each newer one that does not is appended to `damaged` as
  // "<path>: <problem>". "" when none is intact. `file` (optional) receives the intact file as read,
  // so the caller need not read it again.
  static std::string latest_intact(const std::string& dir, std::vector<std::string>* damaged,
                                   io::SafetensorsFile* file = nullptr);
  static std::vector<std::string> list(const std::string& dir);

 private:
  std::string dir_;
  int keep_last_;
  bool keep_best_;
};

}  // namespace asn::train
