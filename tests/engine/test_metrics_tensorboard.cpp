// Metrics (hand-computed cases) and TensorBoard event files (CRC-32C vectors, read-back).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/io/tensorboard.h"
#include "engine/metrics/metrics.h"

using namespace asn;

TEST_CASE("metrics: top-k and mean class accuracy", "[engine][metrics]") {
  // 4 samples, 3 classes.
  std::vector<float> s{0.1f, 0.7f, 0.2f,   // pred 1
                       0.5f, 0.3f, 0.2f,   // pred 0
                       0.2f, 0.3f, 0.5f,   // pred 2
                       0.4f, 0.35f, 0.25f};  // pred 0
  std::vector<int32_t> y{1, 1, 2, 2};
  REQUIRE(metrics::top_k_accuracy(s, 3, y, 1) == Approx(0.5));
  REQUIRE(metrics::top_k_accuracy(s, 3, y, 2) == Approx(0.75));  // sample 1 has label 1 second
  REQUIRE(metrics::top_k_accuracy(s, 3, y, 3) == Approx(1.0));
  // class 1: 1 of 2 right; class 2: 1 of 2 right; class 0 never occurs.
  REQUIRE(metrics::mean_class_accuracy(s, 3, y) == Approx(0.5));
  REQUIRE_THROWS_WITH(metrics::top_k_accuracy(s, 3, {0, 1, 5, 0}, 1), Catch::Contains("label 5 of sample 2"));
}

TEST_CASE("metrics: Charades mAP skips classes without positives", "[engine][metrics]") {
  // 4 samples, 3 classes; class 2 has no positive.
  std::vector<float> s{0.9f, 0.1f, 0.5f, 0.8f, 0.2f, 0.1f, 0.3f, 0.7f, 0.2f, 0.1f, 0.6f, 0.9f};
  std::vector<float> t{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  metrics::MapResult r = metrics::mean_average_precision(s, 3, t);
  // class 0: scores 0.9(+) 0.8(-) 0.3(+) 0.1(-): AP = (1/1 + 2/3) / 2 = 0.8333
  // class 1: scores 0.7(+) 0.6(-) 0.2(+) 0.1(-): AP = (1 + 2/3) / 2 = 0.8333
  REQUIRE(r.per_class[0] == Approx(5.0 / 6));
  REQUIRE(r.per_class[1] == Approx(5.0 / 6));
  REQUIRE(std::isnan(r.per_class[2]));
  REQUIRE(r.classes_skipped == 1);
  REQUIRE(r.classes_used == 2);
  REQUIRE(r.map == Approx(5.0 / 6));
}

TEST_CASE("tensorboard: CRC-32C known answers", "[engine][tensorboard]") {
  REQUIRE(io::crc32c("123456789", 9) == 0xE3069283u);
  REQUIRE(io::crc32c("", 0) == 0u);
  const std::string zeros(32, '\0');
  REQUIRE(io::crc32c(zeros.data(), 32) == 0x8A9136AAu);
}

TEST_CASE("tensorboard: scalars round-trip through an event file", "[engine][tensorboard]") {
  const std::string dir = "/tmp/asn_tb_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path;
  {
    io::TensorBoardWriter w(dir);
    w.add_scalar("train/loss", 2.5, 1);
    w.add_scalar("train/loss", 1.25, 2);
    w.add_scalar("val/top1", 0.875, 2);
    path = w.path();
  }
  REQUIRE_THAT(path, Catch::Contains("events.out.tfevents."));
  auto ev = io::read_scalar_events(path);
  REQUIRE(ev.size() == 3);
  REQUIRE(ev[0].tag == "train/loss");
  REQUIRE(ev[0].value == 2.5);
  REQUIRE(ev[1].step == 2);
  REQUIRE(ev[2].tag == "val/top1");
  REQUIRE(ev[2].value == 0.875);
  REQUIRE(ev[2].wall_time > 1.7e9);
  // Flip one payload byte: the CRC check names the record.
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  std::fseek(f, -6, SEEK_END);
  std::fputc(0x5a, f);
  std::fclose(f);
  REQUIRE_THROWS_WITH(io::read_scalar_events(path), Catch::Contains("record 3") && Catch::Contains("CRC"));
  std::filesystem::remove_all(dir);
}
