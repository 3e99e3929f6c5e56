// DataLoader: batch order independent of the worker count, exact mid-epoch resume, sharding,
// evaluation views, bad-item substitution and its failure-rate guard, worker exceptions reaching
// the consumer with the item name, clean shutdown; check_dataset on good and bad files.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "engine/data/check.h"
#include "engine/data/loader.h"
#include "engine/data/synthetic.h"
#include "engine/data/video_dataset.h"
#include "engine/error.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::data;

namespace {

std::shared_ptr<SyntheticVideoDataset> small_synthetic(int64_t n, Split split = Split::kTrain,
                                                       int clips = 1, int crops = 1) {
  SyntheticOptions o;
  o.num_train = n;
  o.num_val = n;
  o.video_frames = 8;
  o.height = o.width = 16;
  o.seed = 3;
  ClipOptions c = SyntheticVideoDataset::default_clip_options(o);
  c.num_frames = 4;
  c.height = c.width = 12;
  c.eval_short_side = 16;
  c.num_clips = clips;
  c.num_crops = crops;
  return std::make_shared<SyntheticVideoDataset>(o, split, c);
}

// A real dataset whose chosen items fail: IoError (a bad file) or ValueError (a bug); optionally
// slow. Everything else is the synthetic dataset's own sample.
class FaultyDataset : public Dataset {
 public:
  FaultyDataset(std::shared_ptr<const Dataset> base, std::set<int64_t> io_fail,
                std::set<int64_t> bug = {}, int sleep_ms = 0)
      : base_(std::move(base)),
        io_fail_(std::move(io_fail)),
        bug_(std::move(bug)),
        sleep_ms_(sleep_ms) {}
  int64_t size() const override { return base_->size(); }
  int num_classes() const override { return base_->num_classes(); }
  bool is_multilabel() const override { return false; }
  const ClipOptions& clip_options() const override { return base_->clip_options(); }
  std::string item_name(int64_t i) const override { return "video_" + std::to_string(i) + ".mp4"; }
  std::vector<int> item_labels(int64_t i) const override { return base_->item_labels(i); }
  Sample get(int64_t i, SampleRequest& r) const override {
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    if (io_fail_.count(i)) ASN_THROW(IoError, "{}: not a readable video file", item_name(i));
    if (bug_.count(i)) ASN_THROW(ValueError, "boom in item {}", i);
    return base_->get(i, r);
  }
  ItemInfo check(int64_t i) const override {
    if (io_fail_.count(i)) ASN_THROW(IoError, "{}: not a readable video file", item_name(i));
    return base_->check(i);
  }

 private:
  std::shared_ptr<const Dataset> base_;
  std::set<int64_t> io_fail_, bug_;
  int sleep_ms_;
};

struct Seen {
  std::vector<std::vector<uint8_t>> clips;
  std::vector<std::vector<int32_t>> labels;
  std::vector<std::vector<int64_t>> indices;
};

Seen run_epoch(DataLoader& loader, int64_t epoch, int64_t start = 0) {
  loader.start_epoch(epoch, start);
  Seen s;
  Batch b;
  int64_t expect = start;
  while (loader.next(b)) {
    REQUIRE(b.batch_index == expect++);
    REQUIRE(b.epoch == epoch);
    REQUIRE(b.wait_s >= 0);
    const auto* p = static_cast<const uint8_t*>(b.clips.raw_data());
    s.clips.emplace_back(p, p + b.clips.nbytes());
    s.labels.push_back(b.labels.to_vector<int32_t>());
    s.indices.push_back(b.indices);
  }
  REQUIRE(expect == loader.num_batches());
  return s;
}

}  // namespace

TEST_CASE("loader: batches do not depend on the number of workers", "[data][loader]") {
  auto ds = small_synthetic(30);
  LoaderOptions o;
  o.batch_size = 4;
  o.seed = 11;
  std::vector<Seen> runs;
  for (int workers : {0, 1, 3}) {
    o.num_workers = workers;
    DataLoader loader(ds, o);
    REQUIRE(loader.num_batches() == 7);  // 30 / 4, last partial batch dropped
    runs.push_back(run_epoch(loader, 2));
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    REQUIRE(runs[r].indices == runs[0].indices);
    REQUIRE(runs[r].labels == runs[0].labels);
    REQUIRE(runs[r].clips == runs[0].clips);
  }
  // The batch holds what the dataset gives for (seed, epoch, index).
  const Seen& s = runs[0];
  REQUIRE(s.clips[0].size() == 4 * 4 * 12 * 12 * 3 * sizeof(float));
  SampleRequest req{Mode::kTrain, sample_generator(11, 2, s.indices[1][2]), 0};
  const Sample one = ds->get(s.indices[1][2], req);
  REQUIRE(std::memcmp(s.clips[1].data() + 2 * one.clip.nbytes(), one.clip.raw_data(),
                      one.clip.nbytes()) == 0);
  REQUIRE(s.labels[1][2] == one.label);
  // Another epoch has another order.
  o.num_workers = 2;
  DataLoader loader(ds, o);
  REQUIRE(run_epoch(loader, 3).indices != s.indices);
  // An epoch is a permutation (without the dropped tail).
  const auto order = loader.epoch_order(5);
  std::set<int64_t> items;
  for (const auto& p : order) items.insert(p.first);
  REQUIRE(items.size() == 30);
}

TEST_CASE("loader: resuming mid-epoch gives exactly the remaining batches", "[data][loader]") {
  auto ds = small_synthetic(26);
  LoaderOptions o;
  o.batch_size = 3;
  o.num_workers = 2;
  o.seed = 5;
  DataLoader full(ds, o);
  const Seen all = run_epoch(full, 4);
  // Consume three batches, save the position, continue in a fresh loader.
  DataLoader first(ds, o);
  first.start_epoch(4);
  Batch b;
  for (int i = 0; i < 3; ++i) REQUIRE(first.next(b));
  const LoaderPosition pos = first.position();
  REQUIRE(pos.epoch == 4);
  REQUIRE(pos.batch == 3);
  o.num_workers = 1;
  DataLoader resumed(ds, o);
  const Seen rest = run_epoch(resumed, pos.epoch, pos.batch);
  REQUIRE(rest.indices.size() == all.indices.size() - 3);
  for (size_t i = 0; i < rest.indices.size(); ++i) {
    REQUIRE(rest.indices[i] == all.indices[i + 3]);
    REQUIRE(rest.clips[i] == all.clips[i + 3]);
  }
  // Restarting an epoch on the same loader discards what was built ahead.
  first.start_epoch(4, 1);
  REQUIRE(first.next(b));
  REQUIRE(b.batch_index == 1);
  REQUIRE(b.indices == all.indices[1]);
  REQUIRE_THROWS_WITH(first.start_epoch(4, 99), Catch::Contains("start batch 99"));
}

TEST_CASE("loader: shards split an epoch evenly and disjointly", "[data][loader]") {
  auto ds = small_synthetic(23);
  LoaderOptions o;
  o.batch_size = 2;
  o.num_shards = 3;
  std::set<int64_t> all;
  for (int r = 0; r < 3; ++r) {
    o.shard_index = r;
    DataLoader loader(ds, o);
    const auto order = loader.epoch_order(0);
    REQUIRE(order.size() == 7);  // floor(23 / 3)
    REQUIRE(loader.num_batches() == 3);
    for (const auto& p : order) REQUIRE(all.insert(p.first).second);
  }
  REQUIRE(all.size() == 21);
  o.shard_index = 3;
  REQUIRE_THROWS_WITH(DataLoader(ds, o), Catch::Contains("shard 3 of 3"));
}

TEST_CASE("loader: evaluation returns every view of every item, in order", "[data][loader]") {
  auto ds = small_synthetic(5, Split::kVal, 2, 3);
  LoaderOptions o;
  o.mode = Mode::kEval;
  o.batch_size = 4;
  o.num_workers = 2;
  DataLoader loader(ds, o);
  REQUIRE(loader.num_batches() == 8);  // 30 views, last batch partial
  loader.start_epoch(0);
  Batch b;
  std::vector<std::pair<int64_t, int>> got;
  while (loader.next(b)) {
    for (size_t i = 0; i < b.indices.size(); ++i) got.push_back({b.indices[i], b.views[i]});
    REQUIRE(b.labels.dtype() == DType::i32);
  }
  REQUIRE(got.size() == 30);
  for (int64_t i = 0; i < 30; ++i) {
    REQUIRE(got[static_cast<size_t>(i)].first == i / 6);
    REQUIRE(got[static_cast<size_t>(i)].second == i % 6);
  }
}

TEST_CASE("loader: bad items are substituted deterministically and recorded", "[data][loader]") {
  auto base = small_synthetic(40);
  auto ds = std::make_shared<FaultyDataset>(base, std::set<int64_t>{3, 4, 17});
  LoaderOptions o;
  o.batch_size = 5;
  o.seed = 2;
  o.failures.min_attempts = 1000;  // no rate check here
  std::vector<Seen> runs;
  std::vector<std::vector<std::string>> failed;
  for (int workers : {0, 3}) {
    o.num_workers = workers;
    DataLoader loader(ds, o);
    runs.push_back(run_epoch(loader, 0));
    failed.push_back(loader.failed_items());
    REQUIRE(loader.failure_count() == 4);  // 3 and 4 (while standing in for 3), 4, 17
    REQUIRE(loader.attempts() == 40 + 4);
    for (const LoadFailure& f : loader.failures()) REQUIRE_THAT(f.message, Catch::Contains(f.name));
  }
  REQUIRE(runs[0].indices == runs[1].indices);
  REQUIRE(runs[0].clips == runs[1].clips);
  REQUIRE(failed[0] == failed[1]);
  std::set<std::string> names(failed[0].begin(), failed[0].end());
  REQUIRE(names == std::set<std::string>{"video_3.mp4", "video_4.mp4", "video_17.mp4"});
  // Item 3 became item 5 (4 fails too), item 4 became 5, item 17 became 18.
  std::multiset<int64_t> used;
  for (const auto& b : runs[0].indices) used.insert(b.begin(), b.end());
  REQUIRE(used.count(3) == 0);
  REQUIRE(used.count(4) == 0);
  REQUIRE(used.count(5) == 3);
  REQUIRE(used.count(18) == 2);

  // Evaluation drops failed items instead.
  o.mode = Mode::kEval;
  o.batch_size = 8;
  DataLoader eval(ds, o);
  eval.start_epoch(0);
  Batch b;
  int64_t total = 0;
  while (eval.next(b)) {
    total += b.clips.dim(0);
    for (int64_t i : b.indices) REQUIRE((i != 3 && i != 4 && i != 17));
  }
  REQUIRE(total == 37);
  REQUIRE(eval.failure_count() == 3);
}

TEST_CASE("loader: a failure rate above the threshold stops the run", "[data][loader]") {
  auto base = small_synthetic(60);
  std::set<int64_t> bad;
  for (int64_t i = 0; i < 60; i += 4) bad.insert(i);  // 25% of the items
  auto ds = std::make_shared<FaultyDataset>(base, bad);
  LoaderOptions o;
  o.batch_size = 6;
  o.num_workers = 2;
  o.failures.max_failure_rate = 0.05;
  o.failures.min_attempts = 20;
  DataLoader loader(ds, o);
  loader.start_epoch(0);
  Batch b;
  int64_t got = 0;
  auto drain = [&] {
    while (loader.next(b)) ++got;
  };
  REQUIRE_THROWS_AS(drain(), IoError);
  REQUIRE(loader.attempts() >= 20);
  REQUIRE(got < loader.num_batches());
  DataLoader again(ds, o);
  again.start_epoch(0);
  REQUIRE_THROWS_WITH(
      [&] {
        while (again.next(b)) {
        }
      }(),
      Catch::Contains("item loads failed") && Catch::Contains("5.0% limit") &&
          Catch::Contains("video_"));
  // Under a lenient threshold the same data loads.
  o.failures.max_failure_rate = 0.5;
  DataLoader lenient(ds, o);
  REQUIRE(run_epoch(lenient, 0).indices.size() == 10);
}

TEST_CASE("loader: other exceptions reach the consumer with the item name", "[data][loader]") {
  auto ds = std::make_shared<FaultyDataset>(small_synthetic(20), std::set<int64_t>{},
                                            std::set<int64_t>{7});
  for (int workers : {0, 2}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.num_workers = workers;
    o.shuffle = false;
    DataLoader loader(ds, o);
    loader.start_epoch(0);
    Batch b;
    REQUIRE(loader.next(b));  // items 0..3
    REQUIRE_THROWS_AS(loader.next(b), ValueError);
    loader.start_epoch(0, 1);
    REQUIRE_THROWS_WITH(loader.next(b),
                        Catch::Contains("video_7.mp4") && Catch::Contains("boom in item 7"));
    REQUIRE(loader.next(b));  // the loader goes on after the failed batch
    REQUIRE(b.batch_index == 2);
  }
  // Every substitute failing is an error too.
  std::set<int64_t> run;
  for (int64_t i = 4; i < 16; ++i) run.insert(i);
  auto dead = std::make_shared<FaultyDataset>(small_synthetic(20), run);
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.num_workers = 1;
  o.failures.min_attempts = 1000;
  DataLoader loader(dead, o);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  REQUIRE_THROWS_WITH(loader.next(b), Catch::Contains("video_4.mp4") &&
                                          Catch::Contains("10 items after it all failed"));
}

TEST_CASE("loader: data-wait time and clean shutdown mid-epoch", "[data][loader]") {
  auto ds = std::make_shared<FaultyDataset>(small_synthetic(40), std::set<int64_t>{},
                                            std::set<int64_t>{}, 10);
  LoaderOptions o;
  o.batch_size = 4;
  o.num_workers = 0;
  {
    DataLoader loader(ds, o);
    loader.start_epoch(0);
    Batch b;
    REQUIRE(loader.next(b));
    REQUIRE(b.wait_s >= 0.035);  // 4 items of 10 ms built while the consumer waited
  }
  o.num_workers = 3;
  o.prefetch_batches = 2;
  const auto t0 = std::chrono::steady_clock::now();
  {
    DataLoader loader(ds, o);
    loader.start_epoch(0);
    Batch b;
    REQUIRE(loader.next(b));
    // Destroyed with workers busy on prefetched batches.
  }
  {
    DataLoader idle(ds, o);  // never started
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(s < 5.0);
  DataLoader unstarted(ds, o);
  Batch b;
  REQUIRE_THROWS_WITH(unstarted.next(b), Catch::Contains("start_epoch"));
}

TEST_CASE("loader and check_dataset: real bad files are skipped and reported",
          "[data][loader][errors][ffmpeg]") {
  test::TempDir dir;
  for (int v = 0; v < 5; ++v)
    test::encode_video(test::pattern_frames(10, 16, 16, v),
                       dir.file("ok" + std::to_string(v) + ".mkv"), test::kFfv1);
  test::encode_video(test::pattern_frames(3, 16, 16), dir.file("short.mkv"), test::kFfv1);
  test::write_bytes(dir.file("garbage.mp4"), std::string(4000, '\x17'));
  test::write_bytes(dir.file("empty.mp4"), "");
  test::write_bytes(dir.file("list.txt"),
                    "ok0.mkv 0\ngarbage.mp4 1\nok1.mkv 1\nempty.mp4 0\nok2.mkv 0\nshort.mkv 1\n"
                    "ok3.mkv 1\nok4.mkv 0\n");
  ListDatasetOptions list;
  list.list.path = dir.file("list.txt");
  VideoDatasetOptions vo;
  vo.root = dir.path();
  vo.clip.num_frames = 4;
  vo.clip.stride = 2;  // span 7: short.mkv (3 frames) cannot give a clip
  vo.clip.height = vo.clip.width = 16;
  auto ds = load_list_dataset(list, vo);

  const DatasetReport report = check_dataset(*ds, CheckOptions{2, 0});
  REQUIRE(report.items_checked == 8);
  REQUIRE(report.ok == 5);
  REQUIRE(report.problems.size() == 3);
  REQUIRE(report.problems[0].index == 1);
  REQUIRE_THAT(report.problems[0].message, Catch::Contains("garbage.mp4"));
  REQUIRE_THAT(report.problems[1].message,
               Catch::Contains("empty.mp4") && Catch::Contains("zero-length"));
  REQUIRE_THAT(report.problems[2].message,
               Catch::Contains("short.mkv") && Catch::Contains("too short"));
  REQUIRE(report.class_counts == std::vector<int64_t>{3, 2});
  REQUIRE(report.min_frames == 10);
  REQUIRE(!report.all_ok());
  REQUIRE_THAT(report.summary(), Catch::Contains("5 of 8 items usable") &&
                                     Catch::Contains("item 1: ") && Catch::Contains("garbage.mp4"));

  LoaderOptions o;
  o.batch_size = 4;
  o.num_workers = 2;
  o.failures.max_failure_rate = 0.5;
  o.failures.min_attempts = 4;
  DataLoader loader(ds, o);
  loader.start_epoch(0);
  Batch b;
  int64_t n = 0;
  while (loader.next(b)) {
    REQUIRE(b.clips.shape() == Shape{4, 4, 16, 16, 3});
    n += 4;
  }
  REQUIRE(n == 8);
  std::set<std::string> failed;
  for (const std::string& name : loader.failed_items()) failed.insert(name);
  REQUIRE(failed == std::set<std::string>{dir.file("garbage.mp4"), dir.file("empty.mp4"),
                                          dir.file("short.mkv")});
}
