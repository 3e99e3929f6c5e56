// safetensors: round trip, a file written by the official Python package, every corruption giving
// an IoError that names the file and the problem, and the per-tensor CRC-32C checksums (damaged
// bytes detected; the hardware and portable CRC agree).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <cstring>

#include "engine/io/crc32c.h"
#include "engine/io/safetensors.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::io;

namespace {
std::string tmp_path(const std::string& name) { return "/tmp/asn_test_" + name; }
}  // namespace

TEST_CASE("safetensors: round trip keeps names, dtypes, shapes, bytes and metadata", "[engine][io]") {
  std::vector<std::pair<std::string, Tensor>> ts{
      {"node_0/conv/kernel", test::random_uniform(Shape{4, 1, 3, 3, 2}, 1, -1, 1, DType::f32)},
      {"x64", test::random_uniform(Shape{7}, 2)},
      {"half", test::random_uniform(Shape{3, 2}, 3, -1, 1, DType::bf16)},
      {"labels", Tensor::from_vector<int32_t>(Shape{3}, {1, -5, 9})},
      {"scalar", Tensor::full(Shape{1}, 2.5)}};
  const std::string path = tmp_path("roundtrip.safetensors");
  save_safetensors(path, ts, {{"step", "17"}, {"config", "{\"a\": 1}"}});
  SafetensorsFile f = load_safetensors(path);
  REQUIRE(f.tensors.size() == ts.size());
  for (const auto& [name, t] : ts) {
    const Tensor& r = f.get(name);
    REQUIRE(r.dtype() == t.dtype());
    REQUIRE(r.shape() == t.shape());
    REQUIRE(std::memcmp(r.raw_data(), t.raw_data(), t.nbytes()) == 0);
  }
  REQUIRE(f.metadata.at("step") == "17");
  REQUIRE(f.metadata.at("config") == "{\"a\": 1}");
  REQUIRE_THROWS_WITH(f.get("nope"), Catch::Contains("no tensor named 'nope'"));
  // The data section starts 8-byte aligned.
  std::string bytes = serialize_safetensors(ts, {});
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE((8 + n) % 8 == 0);
  std::remove(path.c_str());
}

TEST_CASE("safetensors: reads a file written by the official safetensors package", "[engine][io]") {
  SafetensorsFile f = load_safetensors(std::string(ASN_SOURCE_DIR) +
                                       "/tests/reference/fixtures/safetensors_reference.safetensors");
  const Tensor& a = f.get("weights/f32");
  REQUIRE(a.shape() == Shape{2, 3, 4});
  std::vector<float> av = a.to_vector<float>();
  for (int i = 0; i < 24; ++i) REQUIRE(av[static_cast<size_t>(i)] == 0.5f * i - 3.0f);
  std::vector<double> b = f.get("weights/f64").to_vector<double>();
  REQUIRE(b.size() == 5);
  REQUIRE(b[0] == -1.0);
  REQUIRE(b[2] == 0.0);
  REQUIRE(b[4] == 1.0);
  REQUIRE(f.get("labels/i32").to_vector<int32_t>() == std::vector<int32_t>{7, -2, 0, 123456});
  REQUIRE(f.get("pixels/u8").to_vector<int32_t>() == std::vector<int32_t>{0, 40, 80, 120, 160, 200});
  REQUIRE(f.get("empty").shape() == Shape{0, 3});
  REQUIRE(f.metadata.at("step") == "42");
}

TEST_CASE("safetensors: truncated and corrupt files name the file and the problem", "[engine][io][errors]") {
  std::vector<std::pair<std::string, Tensor>> ts{{"a", test::random_uniform(Shape{10}, 1, -1, 1, DType::f32)},
                                                 {"b", test::random_uniform(Shape{3}, 2, -1, 1, DType::f32)}};
  const std::string good = serialize_safetensors(ts, {});
  auto fails = [&](const std::string& bytes, const std::string& fragment) {
    REQUIRE_THROWS_AS(parse_safetensors(bytes, "ckpt.safetensors"), IoError);
    REQUIRE_THROWS_WITH(parse_safetensors(bytes, "ckpt.safetensors"),
                        Catch::Contains("ckpt.safetensors") && Catch::Contains(fragment));
  };
  fails(good.substr(0, 5), "truncated");
  fails(good.substr(0, 20), "truncated");
  fails(good.substr(0, good.size() - 4), "truncated");
  std::string bad_json = good;
  bad_json[9] = '#';
  fails(bad_json, "not JSON");
  auto with_header = [](const std::string& h) {
    std::string out(8, '\0');
    const uint64_t n = h.size();
    std::memcpy(&out[0], &n, 8);
    return out + h + std::string(64, '\0');
  };
  fails(with_header(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})"), "unsupported dtype");
  fails(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})"), "needs 12 bytes");
  fails(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"),
        "overlap");
  fails(with_header(R"({"a":{"dtype":"F32","shape":[2]}})"), "needs dtype, shape and data_offsets");
  fails(with_header(R"([1,2])"), "not a JSON object");
  REQUIRE_THROWS_WITH(load_safetensors("/nonexistent/file.safetensors"), Catch::Contains("cannot open"));
}

TEST_CASE("safetensors: atomic write replaces the file and leaves no temporary behind", "[engine][io]") {
  const std::string path = tmp_path("atomic.safetensors");
  save_safetensors(path, {{"a", Tensor::full(Shape{2}, 1.0)}});
  save_safetensors(path, {{"a", Tensor::full(Shape{3}, 2.0)}});
  REQUIRE(load_safetensors(path).get("a").shape() == Shape{3});
  std::ifstream tmp(path + ".tmp." + std::to_string(::getpid()));
  REQUIRE_FALSE(tmp.good());
  REQUIRE_THROWS_AS(save_safetensors("/nonexistent_dir/x.safetensors", {{"a", Tensor::full(Shape{1}, 1.0)}}), IoError);
  std::remove(path.c_str());
}

TEST_CASE("safetensors: per-tensor CRC-32C catches damaged bytes and names the tensor", "[engine][io][errors]") {
  std::vector<std::pair<std::string, Tensor>> ts{
      {"layer/kernel", test::random_uniform(Shape{50}, 1, -1, 1, DType::f32)},
      {"layer/bias", test::random_uniform(Shape{5}, 2, -1, 1, DType::f32)}};
  // A stale checksum in the caller's metadata is replaced, and none reaches the reader's metadata.
  const std::string good = serialize_safetensors(ts, {{"step", "3"}, {"crc32c:layer/bias", "00000000"}});
  SafetensorsFile f = parse_safetensors(good, "ok.safetensors");
  REQUIRE(f.metadata.size() == 1);
  REQUIRE(f.metadata.at("step") == "3");
  // The checksums are in the header, one per tensor.
  REQUIRE(good.find("\"crc32c:layer/kernel\"") != std::string::npos);
  REQUIRE(good.find("\"crc32c:layer/bias\"") != std::string::npos);
  // Flip one bit in each tensor's bytes: the error names the file and that tensor.
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  const size_t data = 8 + n;
  std::string bad_kernel = good;
  bad_kernel[data + 17] = static_cast<char>(bad_kernel[data + 17] ^ 0x04);
  REQUIRE_THROWS_WITH(parse_safetensors(bad_kernel, "ckpt.safetensors"),
                      Catch::Contains("ckpt.safetensors") && Catch::Contains("'layer/kernel' is damaged"));
  std::string bad_bias = good;
  bad_bias[good.size() - 1] = static_cast<char>(bad_bias[good.size() - 1] ^ 0x80);
  REQUIRE_THROWS_WITH(parse_safetensors(bad_bias, "ckpt.safetensors"), Catch::Contains("'layer/bias' is damaged"));
  // A checksum for a tensor that is not there, or one that is not 8 hex digits, is corrupt.
  auto with_header = [](const std::string& h) {
    std::string out(8, '\0');
    const uint64_t len = h.size();
    std::memcpy(&out[0], &len, 8);
    return out + h + std::string(8, '\0');
  };
  REQUIRE_THROWS_WITH(
      parse_safetensors(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"crc32c:b":"12345678"}})"), "x"),
      Catch::Contains("checksum of a tensor the file does not hold"));
  REQUIRE_THROWS_WITH(
      parse_safetensors(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"crc32c:a":"xyz"}})"), "x"),
      Catch::Contains("not an 8-digit hex CRC-32C"));
  // Without checksums (other writers) the file loads as before.
  REQUIRE_NOTHROW(parse_safetensors(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})"), "x"));
}

TEST_CASE("crc32c: the hardware and the portable implementation agree", "[engine][io]") {
  INFO("hardware crc32: " << crc32c_is_hardware());
  REQUIRE(crc32c("123456789", 9) == 0xE3069283u);
  REQUIRE(crc32c_portable("123456789", 9) == 0xE3069283u);
  const Tensor buf = test::random_uniform(Shape{1 << 16}, 9, -1, 1, DType::f32);
  const auto* bytes = static_cast<const uint8_t*>(buf.raw_data());
  for (size_t offset : {0, 1, 3, 7}) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 1000, 65531}) {
      INFO("offset " << offset << " length " << len);
      REQUIRE(crc32c(bytes + offset, len) == crc32c_portable(bytes + offset, len));
    }
  }
}

TEST_CASE("safetensors: a writer killed at random moments never leaves a damaged file under the name",
          "[engine][io][errors]") {
  // Two versions of a 24 MiB checkpoint-like file, rewritten in a loop by a child process that is
  // SIGKILLed after a random delay (before, during or between writes). Afterwards the target always
  // loads intact (checksums included) as one of the two versions; only temporaries may be left
  // besides it.
  const std::string dir = tmp_path("crash");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ckpt.safetensors";
  std::vector<std::pair<std::string, Tensor>> versions[2];
  for (int v = 0; v < 2; ++v)
    versions[v] = {{"w", Tensor::full(Shape{3 << 20}, v + 1.0, DType::f32)},
                   {"b", Tensor::full(Shape{3 << 20}, v + 10.0, DType::f32)}};
  uint64_t state = 12345;
  auto next = [&] { state = state * 6364136223846793005ull + 1442695040888963407ull; return state >> 33; };
  save_safetensors(path, versions[0], {{"version", "0"}});
  for (int trial = 0; trial < 12; ++trial) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (int k = 0;; ++k) save_safetensors(path, versions[k % 2], {{"version", std::to_string(k % 2)}});
    }
    ::usleep(static_cast<useconds_t>(1000 + next() % 150000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    SafetensorsFile f = load_safetensors(path);  // throws if damaged
    const int v = std::stoi(f.metadata.at("version"));
    REQUIRE(f.get("w").to_vector<float>()[12345] == static_cast<float>(v + 1));
    REQUIRE(f.get("b").to_vector<float>()[(3 << 20) - 1] == static_cast<float>(v + 10));
  }
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    REQUIRE((name == "ckpt.safetensors" || name.rfind("ckpt.safetensors.tmp.", 0) == 0));
  }
  std::filesystem::remove_all(dir);
}
