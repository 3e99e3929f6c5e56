// Video writer: PNG files decode (with VideoReader) to exactly the written frames; videos decode to
// the right number of frames, size and frame rate and close to the written colours; the automatic
// encoder choice (H.264 in .mp4 when the build has libx264, a fallback when the container refuses
// it); odd sizes padded to even for 4:2:0; errors name the file and leave no temporary file.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "engine/video/video_reader.h"
#include "engine/video/video_writer.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::video;
namespace fs = std::filesystem;

namespace {

// (F, H, W, 3) u8 smooth frames (gradients that move with f): lossy codecs keep them close.
Tensor smooth_frames(int64_t F, int64_t H, int64_t W) {
  Tensor t = Tensor::empty(Shape{F, H, W, 3}, DType::u8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t f = 0; f < F; ++f)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        uint8_t* px = p + ((f * H + y) * W + x) * 3;
        px[0] = static_cast<uint8_t>(40 + 160 * x / W);
        px[1] = static_cast<uint8_t>(40 + 160 * y / H);
        px[2] = static_cast<uint8_t>(60 + 20 * f);
      }
  return t;
}

// Mean absolute difference of two u8 tensors over the (T, H, W, 3) region of `a`; b may be wider
// or taller (padded).
double mean_abs_diff(const Tensor& a, const Tensor& b) {
  const int64_t T = a.dim(0), H = a.dim(1), W = a.dim(2), BH = b.dim(1), BW = b.dim(2);
  const uint8_t* pa = a.data<uint8_t>();
  const uint8_t* pb = b.data<uint8_t>();
  double s = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t i = 0; i < W * 3; ++i)
        s += std::abs(int(pa[((t * H + y) * W) * 3 + i]) - int(pb[((t * BH + y) * BW) * 3 + i]));
  return s / static_cast<double>(a.numel());
}

bool no_temporary_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().find(".tmp.") != std::string::npos) return false;
  return true;
}

}  // namespace

TEST_CASE("video writer: PNG files decode to exactly the frames", "[flow][video_writer][ffmpeg]") {
  test::TempDir dir;
  const Tensor frames = test::pattern_frames(3, 7, 9);  // odd sizes, every value different
  const std::string folder = dir.file("a/b");           // created on the way
  const auto paths = write_png_sequence(frames, folder, "x_");
  REQUIRE(paths.size() == 3);
  REQUIRE(paths[2] == folder + "/x_00002.png");
  for (int64_t t = 0; t < 3; ++t) {
    VideoReader r(paths[static_cast<size_t>(t)]);
    REQUIRE(r.info().codec == "png");
    REQUIRE(r.num_frames() == 1);
    const Tensor back = r.read_all();
    REQUIRE(back.shape() == Shape{1, 7, 9, 3});
    REQUIRE(back.to_vector<uint8_t>() == frames.narrow0(t, 1).to_vector<uint8_t>());
  }
  // encode_png gives a PNG signature; write_png writes the same bytes.
  const Tensor img = frames.narrow0(0, 1).reshape(Shape{7, 9, 3});
  const std::string bytes = encode_png(img);
  REQUIRE(bytes.substr(1, 3) == "PNG");
  write_png(img, dir.file("one.png"));
  REQUIRE(test::read_bytes(dir.file("one.png")) == bytes);
  REQUIRE(no_temporary_files(dir.path()));
}

TEST_CASE("video writer: .mp4 gets H.264 when the build has it, frames and size survive",
          "[flow][video_writer][ffmpeg]") {
  test::TempDir dir;
  const Tensor frames = smooth_frames(7, 32, 48);
  VideoWriterOptions o;
  o.fps = 12.5;
  const VideoWriteInfo info = write_video(frames, dir.file("v.mp4"), o);
  REQUIRE(info.container == "mp4");
  REQUIRE(info.frames == 7);
  REQUIRE(info.width == 48);
  REQUIRE(info.height == 32);
  REQUIRE(info.fps == 12.5);
  if (has_video_encoder("libx264")) {
    REQUIRE(info.encoder == "libx264");
    REQUIRE(info.codec == "h264");
    REQUIRE(info.pixel_format == "yuv420p");
    REQUIRE(info.skipped.empty());
  } else {
    REQUIRE(info.skipped.front() == "libx264: not in this FFmpeg build");
  }
  VideoReader r(dir.file("v.mp4"));
  REQUIRE(r.info().codec == info.codec);
  REQUIRE(r.num_frames() == 7);
  REQUIRE(r.info().width == 48);
  REQUIRE(r.info().height == 32);
  REQUIRE(r.info().fps == Approx(12.5));
  REQUIRE(r.frame_time(4) == Approx(4 / 12.5));
  const double diff = mean_abs_diff(frames, r.read_all());
  INFO("mean absolute difference " << diff);
  REQUIRE(diff < 3.0);
  REQUIRE(no_temporary_files(dir.path()));
}

TEST_CASE("video writer: a named encoder, and odd sizes padded to even",
          "[flow][video_writer][ffmpeg]") {
  test::TempDir dir;
  const Tensor frames = smooth_frames(4, 15, 21);
  VideoWriterOptions o;
  o.encoder = "mpeg4";
  o.fps = 10;
  const VideoWriteInfo info = write_video(frames, dir.file("v.avi"), o);
  REQUIRE(info.encoder == "mpeg4");
  REQUIRE(info.codec == "mpeg4");
  REQUIRE(info.container == "avi");
  REQUIRE(info.width == 22);  // 4:2:0 needs even sizes: last column / row repeated
  REQUIRE(info.height == 16);
  VideoReader r(dir.file("v.avi"));
  REQUIRE(r.num_frames() == 4);
  REQUIRE(r.info().width == 22);
  REQUIRE(r.info().height == 16);
  const Tensor back = r.read_all();
  REQUIRE(mean_abs_diff(frames, back) < 4.0);
  // The padding column repeats column 20 (up to coding error).
  const uint8_t* p = back.data<uint8_t>();
  double pad = 0;
  for (int y = 0; y < 15; ++y)
    for (int ch = 0; ch < 3; ++ch)
      pad += std::abs(int(p[(y * 22 + 21) * 3 + ch]) - int(p[(y * 22 + 20) * 3 + ch]));
  REQUIRE(pad / 45 < 4.0);
}

TEST_CASE("video writer: a container that refuses H.264 falls back and reports why",
          "[flow][video_writer][ffmpeg]") {
  test::TempDir dir;
  const Tensor frames = smooth_frames(3, 16, 16);
  const std::string path = dir.file("v.webm");  // webm takes VP8/VP9/AV1 only
  if (has_video_encoder("libvpx-vp9")) {
    const VideoWriteInfo info = write_video(frames, path);
    REQUIRE(info.encoder == "libvpx-vp9");
    REQUIRE(info.codec == "vp9");
    REQUIRE_FALSE(info.skipped.empty());
    const std::string& first = info.skipped.front();
    REQUIRE_THAT(first, Catch::StartsWith("libx264: ") && (Catch::Contains("does not take h264") ||
                                                           Catch::Contains("not in this FFmpeg")));
    REQUIRE(VideoReader(path).num_frames() == 3);
  } else {
    REQUIRE_THROWS_WITH(write_video(frames, path),
                        Catch::Contains(path) && Catch::Contains("no usable video encoder"));
  }
  REQUIRE(no_temporary_files(dir.path()));
}

TEST_CASE("video writer: errors name the file and leave nothing behind",
          "[flow][video_writer][errors][ffmpeg]") {
  test::TempDir dir;
  const Tensor frames = smooth_frames(2, 8, 8);
  // A file name FFmpeg has no container for.
  REQUIRE_THROWS_WITH(write_video(frames, dir.file("v.notacontainer")),
                      Catch::Contains("v.notacontainer") && Catch::Contains("no container"));
  // An encoder this build does not have, and one the container does not take.
  VideoWriterOptions o;
  o.encoder = "no_such_encoder";
  REQUIRE_THROWS_WITH(
      write_video(frames, dir.file("v.mp4"), o),
      Catch::Contains("v.mp4") && Catch::Contains("no_such_encoder: not in this FFmpeg build"));
  o.encoder = "mpeg4";
  REQUIRE_THROWS_WITH(write_video(frames, dir.file("v.webm"), o),
                      Catch::Contains("v.webm") && Catch::Contains("does not take mpeg4"));
  // A folder that cannot exist (a path below a regular file).
  test::write_bytes(dir.file("plain"), "x");
  REQUIRE_THROWS_AS(write_video(frames, dir.file("plain/v.mp4")), IoError);
  REQUIRE_THROWS_WITH(write_video(frames, dir.file("plain/v.mp4")), Catch::Contains("plain/v.mp4"));
  REQUIRE_THROWS_WITH(write_png_sequence(frames, dir.file("plain/pngs")),
                      Catch::Contains("plain/pngs"));
  REQUIRE_THROWS_AS(
      write_png(frames.narrow0(0, 1).reshape(Shape{8, 8, 3}), dir.file("plain/x.png")), IoError);
  // Wrong tensors.
  REQUIRE_THROWS_WITH(write_video(frames.to(DType::f32), dir.file("v.mp4")),
                      Catch::Contains("write_video") && Catch::Contains("f32"));
  REQUIRE_THROWS_WITH(write_video(Tensor::zeros(Shape{2, 8, 8, 4}, DType::u8), dir.file("v.mp4")),
                      Catch::Contains("write_video") && Catch::Contains("(2, 8, 8, 4)"));
  REQUIRE_THROWS_WITH(encode_png(Tensor::zeros(Shape{8, 8}, DType::u8)),
                      Catch::Contains("encode_png") && Catch::Contains("(8, 8)"));
  VideoWriterOptions bad_fps;
  bad_fps.fps = 0;
  REQUIRE_THROWS_AS(write_video(frames, dir.file("v.mp4"), bad_fps), ValueError);
  REQUIRE_FALSE(fs::exists(dir.file("v.mp4")));
  REQUIRE_FALSE(fs::exists(dir.file("v.webm")));
  REQUIRE(no_temporary_files(dir.path()));
}
