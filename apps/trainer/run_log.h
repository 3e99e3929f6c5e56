// What a training run writes while it runs: JSON lines (one object per logging interval and per
// evaluation, `metrics.jsonl`), TensorBoard scalars (`tensorboard/`), and a one-line progress bar
// with ETA, clips/s and data-wait time on the console (a plain log line per interval when the
// console is not a terminal).
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/io/tensorboard.h"

namespace asn::train {

class RunLog {
 public:
  // `dir` is the run folder (created by the trainer). `append` keeps an existing metrics.jsonl
  // (resuming).
  RunLog(const std::string& dir, bool append);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  // One JSON line + TensorBoard scalars (every numeric field, as "<prefix>/<key>").
  void record(const std::string& prefix, int64_t step, const nlohmann::json& fields);
  // Redraws the progress line: step of total, epoch, loss, lr, clips/s, data wait, ETA.
  void progress(int64_t step, int64_t total_steps, int64_t epoch, double loss, double lr, double clips_per_s,
                double data_wait_fraction, double eta_seconds);
  // Ends the progress line (before other console output).
  void end_progress();
  void flush();

 private:
  std::FILE* jsonl_ = nullptr;
  std::unique_ptr<io::TensorBoardWriter> tb_;
  bool tty_ = false;
  bool line_open_ = false;
};

// "1h02m", "3m07s", "12s".
std::string format_duration(double seconds);

}  // namespace asn::train
