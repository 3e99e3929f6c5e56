// DataLoader: deterministic batch order, worker threads with a bounded prefetch window, bad-item
// substitution and the failure-rate guard.
#include "engine/data/loader.h"

#include <chrono>
#include <cstring>
#include <set>

#include "engine/error.h"
#include "engine/log.h"

namespace asn::data {

void LoaderOptions::validate() const {
  ASN_CHECK(batch_size >= 1, "data loader: batch_size must be >= 1, got {}", batch_size);
  ASN_CHECK(num_workers >= 0, "data loader: num_workers must be >= 0, got {}", num_workers);
  ASN_CHECK(prefetch_batches >= 1, "data loader: prefetch_batches must be >= 1, got {}",
            prefetch_batches);
  ASN_CHECK(num_shards >= 1 && shard_index >= 0 && shard_index < num_shards,
            "data loader: shard {} of {} is not a valid shard", shard_index, num_shards);
  ASN_CHECK(failures.max_failure_rate >= 0 && failures.max_failure_rate <= 1,
            "data loader: max_failure_rate must be in [0, 1], got {}", failures.max_failure_rate);
  ASN_CHECK(failures.min_attempts >= 1 && failures.max_substitutes >= 0,
            "data loader: min_attempts must be >= 1 and max_substitutes >= 0");
}

namespace {

// Rethrows the exception in flight with "<what>: " prepended, keeping the engine's error type.
[[noreturn]] void rethrow_with_context(const std::string& what) {
  try {
    throw;
  } catch (const OutOfMemoryError& e) {
    throw OutOfMemoryError(what + ": " + e.what());
  } catch (const DeviceError& e) {
    throw DeviceError(what + ": " + e.what());
  } catch (const IoError& e) {
    throw IoError(what + ": " + e.what());
  } catch (const ShapeError& e) {
    throw ShapeError(what + ": " + e.what());
  } catch (const TypeError& e) {
    throw TypeError(what + ": " + e.what());
  } catch (const ValueError& e) {
    throw ValueError(what + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(what + ": " + e.what());
  } catch (...) {
    throw Error(what + ": unknown exception");
  }
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options)
    : dataset_(std::move(dataset)), options_(options) {
  ASN_CHECK(dataset_ != nullptr, "data loader: no dataset");
  options_.validate();
  const int64_t positions = static_cast<int64_t>(epoch_order(0).size());
  const bool train = options_.mode == Mode::kTrain;
  num_batches_ = train && options_.drop_last
                     ? positions / options_.batch_size
                     : (positions + options_.batch_size - 1) / options_.batch_size;
  ASN_CHECK(num_batches_ >= 1,
            "data loader: {} items give shard {} of {} no {}batch of {} (dataset size {})",
            positions, options_.shard_index, options_.num_shards,
            train && options_.drop_last ? "full " : "", options_.batch_size, dataset_->size());
  for (int w = 0; w < options_.num_workers; ++w) workers_.emplace_back([this] { worker_loop(); });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

std::vector<std::pair<int64_t, int>> DataLoader::epoch_order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  const int64_t S = options_.num_shards, r = options_.shard_index;
  std::vector<std::pair<int64_t, int>> out;
  if (options_.mode == Mode::kTrain) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    if (options_.shuffle) {
      Generator g(hash_combine64(hash_combine64(options_.seed, 0x5348554646ull),
                                 static_cast<uint64_t>(epoch)),
                  0);
      for (int64_t i = n - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(g.uniform_int(static_cast<uint64_t>(i + 1)));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
      }
    }
    const int64_t per_shard = n / S;
    for (int64_t j = 0; j < per_shard; ++j)
      out.push_back({order[static_cast<size_t>(r + j * S)], 0});
  } else {
    const int views = dataset_->clip_options().num_views();
    for (int64_t i = r; i < n; i += S)
      for (int v = 0; v < views; ++v) out.push_back({i, v});
  }
  return out;
}

void DataLoader::start_epoch(int64_t epoch, int64_t start_batch) {
  ASN_CHECK(epoch >= 0, "data loader: epoch must be >= 0, got {}", epoch);
  ASN_CHECK(start_batch >= 0 && start_batch <= num_batches_,
            "data loader: start batch {} out of range [0, {}]", start_batch, num_batches_);
  auto plan = std::make_shared<Plan>();
  plan->epoch = epoch;
  plan->positions = epoch_order(epoch);
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++generation_;
    ready_.clear();
    plan_ = std::move(plan);
    next_to_build_ = start_batch;
    wanted_ = start_batch;
  }
  epoch_ = epoch;
  next_batch_ = start_batch;
  work_cv_.notify_all();
}

DataLoader::Result DataLoader::build(const Plan& plan, int64_t b, uint64_t generation) const {
  const Dataset& ds = *dataset_;
  const bool train = options_.mode == Mode::kTrain;
  const int64_t n = ds.size();
  const int64_t begin = b * options_.batch_size;
  const int64_t end =
      std::min<int64_t>(begin + options_.batch_size, static_cast<int64_t>(plan.positions.size()));
  Result r;
  std::vector<Sample> samples;
  for (int64_t p = begin; p < end; ++p) {
    if (stop_ || generation_ != generation) return r;  // abandoned: nobody will read it
    const auto [item, view] = plan.positions[static_cast<size_t>(p)];
    const int tries = train ? 1 + options_.failures.max_substitutes : 1;
    bool loaded = false;
    std::string last_error;
    for (int k = 0; k < tries && !loaded; ++k) {
      const int64_t idx = (item + k) % n;
      SampleRequest req{options_.mode, sample_generator(options_.seed, plan.epoch, idx), view};
      ++r.attempts;
      try {
        samples.push_back(ds.get(idx, req));
        r.batch.indices.push_back(idx);
        r.batch.views.push_back(view);
        loaded = true;
      } catch (const IoError& e) {
        last_error = e.what();
        r.failures.push_back(LoadFailure{idx, ds.item_name(idx), e.what(), plan.epoch, b});
        ASN_LOG_WARN("data: skipping {} ({}){}", ds.item_name(idx), e.what(),
                     train && k + 1 < tries ? ", trying the next item instead" : "");
      } catch (...) {
        rethrow_with_context(
            fmt::format("data loader: loading item {} ({})", idx, ds.item_name(idx)));
      }
    }
    if (!loaded && train) {
      ASN_THROW(IoError,
                "data loader: item {} ({}) and the {} items after it all failed to load; last "
                "error: {}",
                item, ds.item_name(item), tries - 1, last_error);
    }
  }
  const int64_t N = static_cast<int64_t>(samples.size());
  r.batch.epoch = plan.epoch;
  r.batch.batch_index = b;
  r.batch.failures = static_cast<int64_t>(r.failures.size());
  if (N == 0) {
    r.empty = true;
    return r;
  }
  // Stack the samples.
  const Shape clip_shape = samples[0].clip.shape();
  for (int64_t i = 0; i < N; ++i) {
    const Sample& s = samples[static_cast<size_t>(i)];
    ASN_CHECK_SHAPE(
        s.clip.shape() == clip_shape && s.objects.defined() == samples[0].objects.defined(),
        "data loader: item {} ({}) gave a clip {} where the batch has {}",
        r.batch.indices[static_cast<size_t>(i)],
        ds.item_name(r.batch.indices[static_cast<size_t>(i)]), describe(s.clip), clip_shape.str());
  }
  std::vector<int64_t> dims = clip_shape.vec();
  dims.insert(dims.begin(), N);
  r.batch.clips = Tensor::empty(Shape(dims), DType::f32);
  const size_t clip_bytes = samples[0].clip.nbytes();
  for (int64_t i = 0; i < N; ++i) {
    std::memcpy(static_cast<char*>(r.batch.clips.raw_data()) + i * clip_bytes,
                samples[static_cast<size_t>(i)].clip.raw_data(), clip_bytes);
  }
  if (ds.is_multilabel()) {
    const int K = ds.num_classes();
    r.batch.labels = Tensor::empty(Shape{N, K}, DType::f32);
    for (int64_t i = 0; i < N; ++i) {
      const Tensor& t = samples[static_cast<size_t>(i)].targets;
      ASN_CHECK_SHAPE(t.defined() && t.numel() == K,
                      "data loader: item {} has targets {} for {} classes",
                      ds.item_name(r.batch.indices[static_cast<size_t>(i)]),
                      t.defined() ? describe(t) : "none", K);
      std::memcpy(r.batch.labels.data<float>() + i * K, t.data<float>(), sizeof(float) * K);
    }
  } else {
    r.batch.labels = Tensor::empty(Shape{N}, DType::i32);
    for (int64_t i = 0; i < N; ++i)
      r.batch.labels.data<int32_t>()[i] = samples[static_cast<size_t>(i)].label;
  }
  if (samples[0].objects.defined()) {
    std::vector<int64_t> od = samples[0].objects.shape().vec();
    od.insert(od.begin(), N);
    r.batch.objects = Tensor::empty(Shape(od), DType::f32);
    const size_t obj_bytes = samples[0].objects.nbytes();
    for (int64_t i = 0; i < N; ++i) {
      const Tensor& o = samples[static_cast<size_t>(i)].objects;
      ASN_CHECK_SHAPE(o.shape() == samples[0].objects.shape(),
                      "data loader: item {} gave object maps {} where the batch has {}",
                      ds.item_name(r.batch.indices[static_cast<size_t>(i)]), describe(o),
                      samples[0].objects.shape().str());
      std::memcpy(static_cast<char*>(r.batch.objects.raw_data()) + i * obj_bytes, o.raw_data(),
                  obj_bytes);
    }
  }
  return r;
}

DataLoader::Result DataLoader::build_safely(const Plan& plan, int64_t b,
                                            uint64_t generation) const {
  try {
    return build(plan, b, generation);
  } catch (...) {
    Result r;
    r.error = std::current_exception();
    r.batch.batch_index = b;
    return r;
  }
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] {
      return stop_ || (plan_ && next_to_build_ < num_batches_ &&
                       next_to_build_ < wanted_ + options_.prefetch_batches);
    });
    if (stop_) return;
    const int64_t b = next_to_build_++;
    const std::shared_ptr<const Plan> plan = plan_;
    const uint64_t gen = generation_;
    lk.unlock();
    Result r = build_safely(*plan, b, gen);
    lk.lock();
    if (gen == generation_) {
      ready_[b] = std::move(r);
      ready_cv_.notify_all();
    }
  }
}

bool DataLoader::next(Batch& batch) {
  for (;;) {
    if (next_batch_ >= num_batches_) return false;
    const auto t0 = std::chrono::steady_clock::now();
    Result r;
    if (workers_.empty()) {
      std::shared_ptr<const Plan> plan;
      {
        std::lock_guard<std::mutex> lk(mu_);
        plan = plan_;
      }
      ASN_CHECK(plan != nullptr, "data loader: call start_epoch() before next()");
      r = build_safely(*plan, next_batch_, generation_);
    } else {
      std::unique_lock<std::mutex> lk(mu_);
      ASN_CHECK(plan_ != nullptr, "data loader: call start_epoch() before next()");
      ready_cv_.wait(lk, [&] { return ready_.count(next_batch_) > 0; });
      r = std::move(ready_[next_batch_]);
      ready_.erase(next_batch_);
      wanted_ = next_batch_ + 1;
      lk.unlock();
      work_cv_.notify_all();
    }
    const double wait =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++next_batch_;
    attempts_ += r.attempts;
    failures_.insert(failures_.end(), r.failures.begin(), r.failures.end());
    if (r.error) std::rethrow_exception(r.error);
    const FailurePolicy& fp = options_.failures;
    const int64_t nfail = failure_count();
    if (nfail > 0 && attempts_ >= fp.min_attempts &&
        static_cast<double>(nfail) > fp.max_failure_rate * static_cast<double>(attempts_)) {
      const std::vector<std::string> names = failed_items();
      std::string first;
      for (size_t i = 0; i < names.size() && i < 3; ++i) first += (i ? "; " : "") + names[i];
      ASN_THROW(IoError,
                "data loader: {} of {} item loads failed ({:.1f}% > the {:.1f}% limit): this "
                "looks systemic (wrong video root? broken decoder?). First failed items: {}. "
                "Last error: {}",
                nfail, attempts_, 100.0 * nfail / attempts_, 100.0 * fp.max_failure_rate, first,
                failures_.back().message);
    }
    if (r.empty) continue;  // evaluation: every item of this batch failed
    batch = std::move(r.batch);
    batch.wait_s = wait;
    return true;
  }
}

std::vector<std::string> DataLoader::failed_items() const {
  std::vector<std::string> names;
  std::set<int64_t> seen;
  for (const LoadFailure& f : failures_)
    if (seen.insert(f.index).second) names.push_back(f.name);
  return names;
}

}  // namespace asn::data
