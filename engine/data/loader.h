// DataLoader: worker threads that turn dataset items into batches, ahead of the consumer.
//
// Order. Each epoch has a fixed list of positions (item, view): training shuffles the items with a
// Generator seeded from (seed, epoch) (Fisher-Yates) and gives shard r of S the positions
// r, r + S, ... of the first floor(n / S) * S (every shard the same count); evaluation keeps items
// in order (shard r takes items i with i % S == r) and expands each into its num_clips x num_crops
// views, consecutively. Batch b holds positions [b * batch_size, (b + 1) * batch_size). A batch's
// content depends only on (seed, epoch, b): not on the number of workers or on timing. Workers
// build whole batches; the consumer receives them in order. An epoch can start at any batch, so a
// run resumes exactly from a saved position().
//
// Bad items. A dataset IoError (unreadable, corrupt, zero-length or too-short video, missing object
// maps) is logged as a warning and recorded in failures(); in training the item is replaced by the
// next item (index + 1, + 2, ... modulo the dataset size, at most max_substitutes tries), in
// evaluation it is dropped from its batch (a batch left empty is skipped). When failures exceed
// max_failure_rate of all load attempts, after at least min_attempts attempts, next() throws an
// IoError: a systemic problem (a wrong root folder, a broken decoder) must stop the run, not hide
// behind substitutes. Any other exception (a bug, out of memory) reaches the consumer from next()
// with the item's name prepended, keeping its type.
//
// Threads: one consumer thread calls next(); get() of the dataset runs on the workers. Destruction
// stops the workers after the batch each one is building (no hang, no detached threads).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/data/dataset.h"

namespace asn::data {

struct FailurePolicy {
  double max_failure_rate = 0.05;  // throw when failures / attempts exceeds this ...
  int64_t min_attempts = 50;       // ... after at least this many attempts
  int max_substitutes = 10;        // training: items tried in place of a failed one
};

struct LoaderOptions {
  int batch_size = 8;
  Mode mode = Mode::kTrain;
  bool shuffle = true;       // training only
  bool drop_last = true;     // training only; evaluation keeps the last partial batch
  int num_workers = 2;       // 0: batches are built inside next()
  int prefetch_batches = 4;  // batches built ahead of the consumer (>= 1)
  uint64_t seed = 0;
  int shard_index = 0;  // data-parallel rank
  int num_shards = 1;   // data-parallel world size
  FailurePolicy failures;

  void validate() const;
};

struct Batch {
  Tensor clips;                  // f32 (N, T, H, W, 3)
  Tensor labels;                 // single-label: i32 (N,); multi-label: f32 (N, K)
  Tensor objects;                // f32 (N, T, H, W, num_object_classes), or undefined
  std::vector<int64_t> indices;  // dataset item of each sample (a substitute's when replaced)
  std::vector<int> views;        // evaluation view of each sample (0 in training)
  int64_t epoch = 0;
  int64_t batch_index = 0;
  double wait_s = 0;     // time next() waited for this batch (data-wait time)
  int64_t failures = 0;  // failed loads while building this batch
};

struct LoadFailure {
  int64_t index = 0;    // dataset item
  std::string name;     // its item_name
  std::string message;  // the IoError's message
  int64_t epoch = 0;
  int64_t batch = 0;
};

struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // the next batch next() returns
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch for this shard.
  int64_t num_batches() const { return num_batches_; }
  // Starts (or restarts) `epoch` at batch `start_batch`, discarding batches built ahead.
  void start_epoch(int64_t epoch, int64_t start_batch = 0);
  // The next batch of the current epoch; false at the end of the epoch. Throws what loading threw
  // (see the header comment) and IoError when the failure rate passes the threshold.
  bool next(Batch& batch);
  LoaderPosition position() const { return {epoch_, next_batch_}; }

  // The (item, view) positions of this shard in `epoch`, in batch order.
  std::vector<std::pair<int64_t, int>> epoch_order(int64_t epoch) const;

  // Load statistics since construction (consumer thread only).
  int64_t attempts() const { return attempts_; }
  int64_t failure_count() const { return static_cast<int64_t>(failures_.size()); }
  const std::vector<LoadFailure>& failures() const { return failures_; }
  // Names of the items that failed at least once, in order of first failure.
  std::vector<std::string> failed_items() const;

  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

 private:
  struct Plan {
    int64_t epoch = 0;
    std::vector<std::pair<int64_t, int>> positions;
  };
  struct Result {
    Batch batch;
    int64_t attempts = 0;
    std::vector<LoadFailure> failures;
    std::exception_ptr error;
    bool empty = false;
  };

  Result build(const Plan& plan, int64_t b, uint64_t generation) const;
  Result build_safely(const Plan& plan, int64_t b, uint64_t generation) const;
  void worker_loop();

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  int64_t num_batches_ = 0;

  // Consumer state.
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;
  int64_t attempts_ = 0;
  std::vector<LoadFailure> failures_;

  // Shared with the workers (guarded by mu_).
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable ready_cv_;
  std::shared_ptr<const Plan> plan_;
  int64_t next_to_build_ = 0;
  int64_t wanted_ = 0;  // the batch the consumer waits for next
  std::map<int64_t, Result> ready_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace asn::data
