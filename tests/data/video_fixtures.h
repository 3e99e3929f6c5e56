// Test fixtures for the data tests: a temporary folder, known RGB frames, and real video files
// encoded from them with the `ffmpeg` command-line tool (lossless codecs, so decoded frames can be
// compared with the source frames exactly).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace asn::test {

// A fresh folder under /tmp, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "asn_data_XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// (F, H, W, 3) u8 frames, every frame different, smooth enough for inter-frame coding:
// R = 7x + 13t + v, G = 9y + 5t + 2v, B = 3(x + y) + 29t + 3v (mod 256) for variant v.
inline Tensor pattern_frames(int64_t F, int64_t H, int64_t W, int64_t v = 0) {
  Tensor t = Tensor::empty(Shape{F, H, W, 3}, DType::u8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t f = 0; f < F; ++f)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        uint8_t* px = p + ((f * H + y) * W + x) * 3;
        px[0] = static_cast<uint8_t>((7 * x + 13 * f + v) % 256);
        px[1] = static_cast<uint8_t>((9 * y + 5 * f + 2 * v) % 256);
        px[2] = static_cast<uint8_t>((3 * (x + y) + 29 * f + 3 * v) % 256);
      }
  return t;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Encodes (F, H, W, 3) u8 frames at `fps` into `path` with ffmpeg and `codec_args`, e.g.
// "-c:v ffv1" or "-c:v libx264rgb -qp 0". Fails the test when ffmpeg fails.
inline void encode_video(const Tensor& frames, const std::string& path,
                         const std::string& codec_args, int fps = 25) {
  const std::string raw = path + ".rgb";
  write_bytes(raw, std::string(static_cast<const char*>(frames.raw_data()), frames.nbytes()));
  const std::string cmd =
      "ffmpeg -hide_banner -loglevel error -nostdin -y -f rawvideo -pix_fmt rgb24 -s " +
      std::to_string(frames.dim(2)) + "x" + std::to_string(frames.dim(1)) + " -r " +
      std::to_string(fps) + " -i '" + raw + "' " + codec_args + " '" + path + "'";
  const int rc = std::system(cmd.c_str());
  std::remove(raw.c_str());
  INFO("command: " << cmd);
  REQUIRE(rc == 0);
}

// Runs a shell command and returns its standard output; fails the test on a non-zero exit.
inline std::string run_capture(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  INFO("command: " << cmd);
  REQUIRE(pclose(p) == 0);
  return out;
}

struct PacketInfo {
  int64_t pos = 0, size = 0;  // bytes in the file
  int64_t pts = 0;
  bool key = false;
};
// Every packet of the first video stream, in file (decode) order, from ffprobe.
inline std::vector<PacketInfo> packets(const std::string& path) {
  const std::string out = run_capture(
      "ffprobe -v error -select_streams v:0 -show_entries packet=pts,pos,size,flags "
      "-of default=nw=0:nk=0 '" +
      path + "'");
  std::vector<PacketInfo> r;
  std::istringstream in(out);
  std::string line;
  PacketInfo p;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (line == "[/PACKET]") r.push_back(p);
    if (line == "[PACKET]") p = PacketInfo{};
    if (eq == std::string::npos) continue;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "pos") p.pos = std::stoll(v);
    if (k == "size") p.size = std::stoll(v);
    if (k == "pts") p.pts = std::stoll(v);
    if (k == "flags") p.key = v.find('K') != std::string::npos;
  }
  return r;
}

// Lossless codecs used by the tests.
inline const char* kFfv1 = "-c:v ffv1";  // intra-only, every frame a keyframe (.mkv)
// Lossless H.264 in RGB with a keyframe every 6 frames: seeking has to decode forward (.mp4).
inline const char* kX264RgbLossless =
    "-c:v libx264rgb -qp 0 -x264-params keyint=6:min-keyint=6:scenecut=0";
// Lossy H.264 with B-frames (reordering): only self-consistency can be checked.
inline const char* kX264BFrames = "-c:v libx264 -pix_fmt yuv420p -g 5 -bf 2";

}  // namespace asn::test
