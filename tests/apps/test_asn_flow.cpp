// asn-flow end to end: a bright square moving right by one pixel per frame (a lossless FFV1 video)
// gives a flow whose u1 is positive on the square and equals ag::rep_flow computed here on the same
// decoded frames; the PNGs decode to exactly the colour coding of that flow; the video opens with
// the right frame count and size. Tensor input with frame selection, --size, --side-by-side,
// --max-flow and several clips; --dump; errors (missing file, no 'rgb', bad --size, ...).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "autograd/functions/rep_flow.h"
#include "autograd/tape.h"
#include "engine/data/transforms.h"
#include "engine/io/safetensors.h"
#include "engine/video/flow_color.h"
#include "engine/video/video_reader.h"
#include "engine/video/video_writer.h"
#include "tests/data/video_fixtures.h"
#include "tests/support/process.h"

using namespace asn;
namespace fs = std::filesystem;

namespace {

std::string tool() { return std::string(ASN_BINARY_DIR) + "/apps/asn-flow/asn-flow"; }

// Runs a command, returns (exit code, stdout + stderr).
std::pair<int, std::string> run(const std::string& cmd) { return asn::test::run_command(cmd); }

// The moving square: (6, 32, 32, 3) u8, background 30, an 8 x 8 square of 220 at rows 12..19 and
// columns 8 + t .. 15 + t in frame t.
constexpr int kSquareY = 12, kSquareX = 8, kSide = 8;
Tensor moving_square() {
  Tensor t = Tensor::full(Shape{6, 32, 32, 3}, 30, DType::u8);
  uint8_t* p = t.data<uint8_t>();
  for (int f = 0; f < 6; ++f)
    for (int y = kSquareY; y < kSquareY + kSide; ++y)
      for (int x = kSquareX + f; x < kSquareX + f + kSide; ++x)
        for (int c = 0; c < 3; ++c) p[((f * 32 + y) * 32 + x) * 3 + c] = 220;
  return t;
}

// u8 -> f32 v * (1/255), as asn-flow (and the data pipeline's "unit" normalisation) converts.
Tensor unit(const Tensor& u8) {
  Tensor out = Tensor::empty(u8.shape(), DType::f32);
  const uint8_t* s = u8.data<uint8_t>();
  float* d = out.data<float>();
  for (int64_t i = 0; i < u8.numel(); ++i) d[i] = static_cast<float>(s[i]) * (1.0f / 255.0f);
  return out;
}

Tensor direct_flow(const Tensor& rgb, int iterations) {
  ag::NoGradGuard no_grad;
  ag::RepFlowOptions o;
  o.iterations = iterations;
  return ag::rep_flow(ag::Variable(rgb), ag::rep_flow_params(), o).value();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to(DType::f64).to_vector<double>(), y = b.to(DType::f64).to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// Clip n, frame t of (N, T, H, W, C) as (H, W, C).
Tensor frame(const Tensor& x, int64_t n, int64_t t) {
  const Tensor clip = x.narrow0(n, 1).reshape(Shape{x.dim(1), x.dim(2), x.dim(3), x.dim(4)});
  return clip.narrow0(t, 1).reshape(Shape{x.dim(2), x.dim(3), x.dim(4)});
}

Tensor decode_png(const std::string& path) {
  video::VideoReader r(path);
  REQUIRE(r.num_frames() == 1);
  const Tensor f = r.read_all();
  return f.reshape(Shape{f.dim(1), f.dim(2), 3});
}

}  // namespace

TEST_CASE("asn-flow: a square moving right, as a tensor file, PNGs and a video",
          "[apps][flow][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = moving_square();
  test::encode_video(src, dir.file("square.mkv"), test::kFfv1, 10);
  auto [code, out] = run(tool() + " " + dir.file("square.mkv") + " -o " +
                         dir.file("flow.safetensors") + " --save-input --png " + dir.file("png") +
                         " --video " + dir.file("flow.mp4") + " --dump --device cpu");
  INFO(out);
  REQUIRE(code == 0);

  // The tensor file: shapes, finite values, the input as the layer saw it.
  const io::SafetensorsFile f = io::load_safetensors(dir.file("flow.safetensors"));
  const Tensor flow = f.get("flow");
  REQUIRE(flow.dtype() == DType::f32);
  REQUIRE(flow.shape() == Shape{1, 6, 32, 32, 2});
  for (float v : flow.to_vector<float>()) REQUIRE(std::isfinite(v));
  video::VideoReader reader(dir.file("square.mkv"));
  const Tensor decoded = reader.read_all();
  REQUIRE(decoded.to_vector<uint8_t>() == src.to_vector<uint8_t>());  // lossless
  const Tensor rgb = unit(decoded).reshape(Shape{1, 6, 32, 32, 3});
  REQUIRE(max_abs_diff(f.get("rgb"), rgb) == 0);

  // Motion to the right: mean u1 over the square's span (columns it covers in frames t and t + 1)
  // is positive and clearly larger than |mean u2|.
  const float* u = flow.data<float>();
  for (int t = 0; t < 5; ++t) {
    double u1 = 0, u2 = 0;
    int count = 0;
    for (int y = kSquareY; y < kSquareY + kSide; ++y)
      for (int x = kSquareX + t; x <= kSquareX + t + kSide; ++x, ++count) {
        u1 += u[((t * 32 + y) * 32 + x) * 2];
        u2 += u[((t * 32 + y) * 32 + x) * 2 + 1];
      }
    u1 /= count, u2 /= count;
    INFO("frame " << t << ": mean u1 " << u1 << ", mean u2 " << u2);
    REQUIRE(u1 > 0.2);
    REQUIRE(std::abs(u2) < 0.25 * u1);
  }
  // The same as the layer called directly on the same frames.
  REQUIRE(max_abs_diff(flow, direct_flow(rgb, 40)) <= 1e-6);

  // PNGs: exactly the colour coding of the flow (normalised by its largest magnitude).
  const double norm = video::max_flow_magnitude(flow);
  REQUIRE(norm > 0.5);
  const Tensor colors = video::flow_to_color(flow.reshape(Shape{6, 32, 32, 2}), norm);
  for (int t = 0; t < 6; ++t) {
    const Tensor png = decode_png(dir.file(fmt::format("png/flow_{:05d}.png", t)));
    REQUIRE(png.shape() == Shape{32, 32, 3});
    REQUIRE(png.to_vector<uint8_t>() == colors.narrow0(t, 1).to_vector<uint8_t>());
  }
  REQUIRE_FALSE(fs::exists(dir.file("png/flow_00006.png")));

  // The video: 6 frames of 32 x 32, H.264 when this FFmpeg has libx264, colours close to the PNGs.
  video::VideoReader v(dir.file("flow.mp4"));
  REQUIRE(v.num_frames() == 6);
  REQUIRE(v.info().width == 32);
  REQUIRE(v.info().height == 32);
  REQUIRE(v.info().fps == Approx(10));
  if (video::has_video_encoder("libx264")) {
    REQUIRE(v.info().codec == "h264");
    REQUIRE_THAT(out, Catch::Contains("encoder libx264, codec h264"));
  }
  const auto a = v.read_all().to_vector<uint8_t>(), b = colors.to_vector<uint8_t>();
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += std::abs(int(a[i]) - int(b[i]));
  REQUIRE(diff / static_cast<double>(a.size()) < 8.0);

  // --dump: shapes and one statistics row per frame, the largest magnitude among them.
  REQUIRE_THAT(out, Catch::Contains("flow   f32 (1, 6, 32, 32, 2)") &&
                        Catch::Contains("40 iterations on cpu") && Catch::Contains("|u| mean"));
  std::istringstream lines(out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line))
    if (line.rfind("   0 ", 0) == 0) ++rows;
  REQUIRE(rows == 6);
  REQUIRE_THAT(out, Catch::Contains(fmt::format("{:.4g}", norm)));
}

TEST_CASE("asn-flow: tensor input, frame selection, --size, --side-by-side, --max-flow, clips",
          "[apps][flow][ffmpeg]") {
  test::TempDir dir;
  // (T, H, W, 3) u8: frames 1, 3, 5 of the square, resized to 16 x 20, 20 iterations.
  const Tensor src = moving_square();
  io::save_safetensors(dir.file("in.safetensors"), {{"rgb", src}});
  auto [code, out] = run(tool() + " " + dir.file("in.safetensors") +
                         " --frames 3 --stride 2 --start 1 --size 16x20 --iterations 20 -o " +
                         dir.file("f.safetensors") + " --save-input --png " + dir.file("p") +
                         " --side-by-side --max-flow 2.5");
  INFO(out);
  REQUIRE(code == 0);
  const io::SafetensorsFile f = io::load_safetensors(dir.file("f.safetensors"));
  // The resize agrees with the data pipeline's crop_resize_normalize (interpolation in bytes
  // there, in [0, 1] here: equal to rounding).
  Tensor picked = Tensor::empty(Shape{3, 32, 32, 3}, DType::u8);
  for (int t = 0; t < 3; ++t) picked.narrow0(t, 1).copy_from(src.narrow0(1 + 2 * t, 1));
  const Tensor want = data::crop_resize_normalize(picked, data::CropBox{0, 0, 32, 32, false}, 16,
                                                  20, data::Normalization::kUnit)
                          .reshape(Shape{1, 3, 16, 20, 3});
  const Tensor rgb = f.get("rgb");
  REQUIRE(rgb.shape() == Shape{1, 3, 16, 20, 3});
  REQUIRE(max_abs_diff(rgb, want) <= 1e-6);
  const Tensor flow = f.get("flow");
  REQUIRE(flow.shape() == Shape{1, 3, 16, 20, 2});
  REQUIRE(max_abs_diff(flow, direct_flow(rgb, 20)) <= 1e-6);
  // Side by side: the input frame (rounded to bytes), then the flow coloured at --max-flow 2.5.
  for (int t = 0; t < 3; ++t) {
    const Tensor png = decode_png(dir.file(fmt::format("p/flow_{:05d}.png", t)));
    REQUIRE(png.shape() == Shape{16, 40, 3});
    const Tensor col = video::flow_to_color(frame(flow, 0, t).reshape(Shape{1, 16, 20, 2}), 2.5);
    const auto in = frame(rgb, 0, t).to_vector<float>();
    const auto c = col.to_vector<uint8_t>();
    const uint8_t* p = png.data<uint8_t>();
    for (int y = 0; y < 16; ++y)
      for (int i = 0; i < 60; ++i) {
        REQUIRE(p[y * 120 + i] == static_cast<uint8_t>(std::lround(in[y * 60 + i] * 255.0f)));
        REQUIRE(p[y * 120 + 60 + i] == c[y * 60 + i]);
      }
  }
  REQUIRE_THAT(out, Catch::Contains("full saturation at 2.5 px (--max-flow)"));

  // Two f32 clips (N, T, H, W, 3): one video per clip, batch-wide normalisation as in the network.
  Tensor two = Tensor::empty(Shape{2, 6, 32, 32, 3}, DType::f32);
  const Tensor one = unit(src);
  two.narrow0(0, 1).copy_from(one.reshape(Shape{1, 6, 32, 32, 3}));
  const auto v = one.to_vector<float>();
  std::vector<float> flipped(v.size());  // clip 1: the square moving left (frames mirrored in x)
  for (int t = 0; t < 6; ++t)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c)
          flipped[((t * 32 + y) * 32 + x) * 3 + c] = v[((t * 32 + y) * 32 + (31 - x)) * 3 + c];
  two.narrow0(1, 1).copy_from(Tensor::from_vector<float>(Shape{1, 6, 32, 32, 3}, flipped));
  io::save_safetensors(dir.file("two.safetensors"), {{"rgb", two}});
  auto [code2, out2] =
      run(tool() + " " + dir.file("two.safetensors") + " --frames 4 -o " +
          dir.file("f2.safetensors") + " --video " + dir.file("c.mkv") + " --codec ffv1 --fps 5");
  INFO(out2);
  REQUIRE(code2 == 0);
  const Tensor flow2 = io::load_safetensors(dir.file("f2.safetensors")).get("flow");
  REQUIRE(flow2.shape() == Shape{2, 4, 32, 32, 2});
  Tensor first4 = Tensor::empty(Shape{2, 4, 32, 32, 3}, DType::f32);
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 4; ++t)
      first4.narrow0(n, 1)
          .reshape(Shape{4, 32, 32, 3})
          .narrow0(t, 1)
          .copy_from(two.narrow0(n, 1).reshape(Shape{6, 32, 32, 3}).narrow0(t, 1));
  REQUIRE(max_abs_diff(flow2, direct_flow(first4, 40)) <= 1e-6);
  for (int n = 0; n < 2; ++n) {
    video::VideoReader r(dir.file(fmt::format("c_clip{}.mkv", n)));
    REQUIRE(r.num_frames() == 4);
    REQUIRE(r.info().codec == "ffv1");
    REQUIRE(r.info().fps == Approx(5));
  }
  // The mirrored clip moves left: mean u1 over its square's span is negative in every frame pair.
  const float* u = flow2.data<float>();
  for (int t = 0; t < 3; ++t) {
    double u1 = 0;
    int count = 0;
    for (int y = kSquareY; y < kSquareY + kSide; ++y)
      for (int x = 31 - (kSquareX + t + kSide); x <= 31 - (kSquareX + t); ++x, ++count)
        u1 += u[4 * 32 * 32 * 2 + ((t * 32 + y) * 32 + x) * 2];
    INFO("clip 1, frame " << t << ": mean u1 " << u1 / count);
    REQUIRE(u1 / count < -0.2);
  }
}

TEST_CASE("asn-flow: errors name the problem and exit with 2", "[apps][flow][errors][ffmpeg]") {
  test::TempDir dir;
  auto expect = [](const std::string& args, const std::vector<std::string>& parts) {
    auto [code, out] = run(tool() + " " + args);
    INFO(args << "\n" << out);
    REQUIRE(code == 2);
    for (const auto& p : parts) REQUIRE_THAT(out, Catch::Contains(p));
  };
  const std::string missing = dir.file("missing.mp4");
  expect(missing + " --dump", {"error: ", missing, "no such file"});
  expect(dir.file("missing.safetensors") + " --dump", {"missing.safetensors"});
  io::save_safetensors(dir.file("norgb.safetensors"),
                       {{"frames", Tensor::zeros(Shape{2, 4, 4, 3})}});
  expect(dir.file("norgb.safetensors") + " --dump", {"norgb.safetensors", "no tensor named 'rgb'"});
  io::save_safetensors(dir.file("shape.safetensors"), {{"rgb", Tensor::zeros(Shape{2, 4, 4, 4})}});
  expect(dir.file("shape.safetensors") + " --dump", {"shape.safetensors", "(2, 4, 4, 4)"});
  io::save_safetensors(dir.file("range.safetensors"),
                       {{"rgb", Tensor::full(Shape{2, 4, 4, 3}, 200.0)}});
  expect(dir.file("range.safetensors") + " --dump", {"range.safetensors", "[0, 1]", "200"});
  io::save_safetensors(dir.file("ok.safetensors"),
                       {{"rgb", Tensor::zeros(Shape{3, 4, 4, 3}, DType::u8)}});
  const std::string ok = dir.file("ok.safetensors");
  expect(ok + " --dump --size 12", {"--size", "'12'"});
  expect(ok + " --dump --size 0x8", {"--size", "'0x8'"});
  expect(ok + " --dump --size axb", {"--size", "'axb'"});
  expect(ok + " --dump --start 3", {"--start 3", "3 frames"});
  expect(ok + " --dump --frames 4", {"ok.safetensors", "too short"});
  expect(ok + " --dump --iterations 0", {"--iterations"});
  expect(ok, {"nothing to do"});
  if (cuda_device_count() == 0)
    expect(ok + " --dump --device cuda", {"--device cuda", "no such CUDA device"});
  // Nothing is written when the input is bad.
  expect(missing + " -o " + dir.file("x.safetensors"), {missing});
  REQUIRE_FALSE(fs::exists(dir.file("x.safetensors")));
}
