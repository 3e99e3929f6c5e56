// VideoReader: decoded frames equal the encoded frames exactly (lossless codecs), seeks land on the
// exact frame for any start and stride, metadata, out-of-range policies, and every bad input gives
// an IoError naming the file.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>

#include "engine/rng.h"
#include "engine/video/video_reader.h"
#include "tests/data/video_fixtures.h"

using namespace asn;
using namespace asn::video;

namespace {

// Frame f of a (F, H, W, 3) u8 tensor equals frame g of another.
bool same_frame(const Tensor& a, int64_t f, const Tensor& b, int64_t g) {
  const size_t n = static_cast<size_t>(a.dim(1) * a.dim(2) * 3);
  if (a.dim(1) != b.dim(1) || a.dim(2) != b.dim(2)) return false;
  return std::memcmp(a.data<uint8_t>() + f * n, b.data<uint8_t>() + g * n, n) == 0;
}

void require_frames(const Tensor& got, const Tensor& src, const std::vector<int64_t>& idx) {
  REQUIRE(got.dtype() == DType::u8);
  REQUIRE(got.shape() == Shape{static_cast<int64_t>(idx.size()), src.dim(1), src.dim(2), 3});
  for (size_t t = 0; t < idx.size(); ++t) {
    INFO("clip frame " << t << " should be source frame " << idx[t]);
    REQUIRE(same_frame(got, static_cast<int64_t>(t), src, idx[t]));
  }
}

}  // namespace

TEST_CASE("video reader: lossless files decode to exactly the encoded frames",
          "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(20, 24, 32);
  for (const auto& [name, args] :
       {std::pair{"a.mkv", test::kFfv1}, std::pair{"b.mp4", test::kX264RgbLossless}}) {
    SECTION(name) {
      test::encode_video(src, dir.file(name), args, 25);
      VideoReader r(dir.file(name));
      const VideoInfo& info = r.info();
      REQUIRE(info.num_frames == 20);
      REQUIRE(info.width == 32);
      REQUIRE(info.height == 24);
      REQUIRE(info.fps == Approx(25.0));
      REQUIRE(info.duration_s == Approx(0.8).margin(1e-3));
      REQUIRE(r.frame_time(5) == Approx(0.2).margin(1e-3));
      std::vector<int64_t> all(20);
      for (int64_t i = 0; i < 20; ++i) all[static_cast<size_t>(i)] = i;
      require_frames(r.read_all(), src, all);
    }
  }
}

TEST_CASE("video reader: seeking gives exactly frames s, s+k, ... in any order",
          "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(30, 16, 24);
  // Keyframes every 6 frames: reads starting mid-GOP must decode forward from the keyframe.
  test::encode_video(src, dir.file("g.mp4"), test::kX264RgbLossless, 30);
  VideoReader r(dir.file("g.mp4"));
  REQUIRE(r.info().codec == "h264");
  REQUIRE(r.num_frames() == 30);
  struct Case {
    int64_t start, count, stride;
  };
  // Forward, backward, same again, inside one GOP, across several GOPs, the last frame.
  for (const Case c : {Case{7, 4, 2}, Case{0, 8, 1}, Case{13, 3, 5}, Case{13, 3, 5}, Case{2, 3, 1},
                       Case{25, 5, 1}, Case{29, 1, 1}, Case{11, 6, 3}}) {
    INFO("start " << c.start << " count " << c.count << " stride " << c.stride);
    std::vector<int64_t> idx;
    for (int64_t t = 0; t < c.count; ++t) idx.push_back(c.start + t * c.stride);
    require_frames(r.read_clip(c.start, c.count, c.stride), src, idx);
  }
  // Arbitrary order with repeats.
  const std::vector<int64_t> any{17, 3, 3, 29, 0, 12, 17};
  require_frames(r.read_frames(any), src, any);
}

TEST_CASE("video reader: a raw H.264 stream without timestamps reads frames in decode order",
          "[data][video][ffmpeg]") {
  // An elementary stream has no container timestamps: frame i is the i-th decoded frame.
  test::TempDir dir;
  const Tensor src = test::pattern_frames(15, 16, 16);
  test::encode_video(src, dir.file("raw.h264"), test::kX264RgbLossless);
  VideoReader r(dir.file("raw.h264"));
  REQUIRE(r.num_frames() == 15);
  require_frames(r.read_clip(8, 3, 2), src, {8, 10, 12});
  require_frames(r.read_frames({14, 1, 7}), src, {14, 1, 7});
}

TEST_CASE("video reader: random access equals sequential decoding with B-frames",
          "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(26, 32, 32);
  for (const char* name : {"bf.mp4", "bf.mkv"}) {
    SECTION(name) {
      test::encode_video(src, dir.file(name), test::kX264BFrames, 25);
      VideoReader seq(dir.file(name));
      REQUIRE(seq.num_frames() == 26);
      const Tensor all = seq.read_all();
      VideoReader r(dir.file(name));
      const std::vector<int64_t> order{21, 4, 9, 25, 0, 13, 12, 7, 18};
      const Tensor got = r.read_frames(order);
      for (size_t t = 0; t < order.size(); ++t) {
        INFO("frame " << order[t]);
        REQUIRE(same_frame(got, static_cast<int64_t>(t), all, order[t]));
      }
      // Every frame on its own, backward (a seek each time) and forward (decoding continues from
      // the previous read, whose unwanted unreferenced frames the decoder skipped).
      for (int64_t f = 25; f >= 0; --f) {
        INFO("single frame " << f);
        REQUIRE(same_frame(r.read_frames({f}), 0, all, f));
      }
      for (int64_t f = 0; f < 26; ++f) {
        INFO("single frame " << f << " going forward");
        REQUIRE(same_frame(r.read_frames({f}), 0, all, f));
      }
      // The lossy frames are still close to the source (sanity that frame i is frame i).
      const uint8_t* a = all.data<uint8_t>() + 9 * 32 * 32 * 3;
      const uint8_t* s = src.data<uint8_t>() + 9 * 32 * 32 * 3;
      double err = 0, err_next = 0;
      const uint8_t* s_next = s + 32 * 32 * 3;
      for (int i = 0; i < 32 * 32 * 3; ++i) {
        err += std::abs(static_cast<int>(a[i]) - s[i]);
        err_next += std::abs(static_cast<int>(a[i]) - s_next[i]);
      }
      REQUIRE(err < err_next);
    }
  }
}

TEST_CASE("video reader: clip frame indices follow the chosen policy", "[data][video]") {
  REQUIRE(clip_frame_indices(2, 4, 3, 12, OutOfRange::kError, "v") ==
          std::vector<int64_t>{2, 5, 8, 11});
  REQUIRE(clip_frame_indices(6, 4, 2, 10, OutOfRange::kLoop, "v") ==
          std::vector<int64_t>{6, 8, 0, 2});
  REQUIRE(clip_frame_indices(6, 4, 2, 10, OutOfRange::kRepeatLast, "v") ==
          std::vector<int64_t>{6, 8, 9, 9});
  REQUIRE_THROWS_AS(clip_frame_indices(6, 4, 2, 10, OutOfRange::kError, "v.mp4"), IoError);
  REQUIRE_THROWS_WITH(clip_frame_indices(6, 4, 2, 10, OutOfRange::kError, "v.mp4"),
                      Catch::Contains("v.mp4: too short") && Catch::Contains("10 frames"));
  REQUIRE(out_of_range_from_name("repeat_last") == OutOfRange::kRepeatLast);
  REQUIRE_THROWS_WITH(out_of_range_from_name("wrap"), Catch::Contains("wrap"));
}

TEST_CASE("video reader: clips past the end follow the chosen policy", "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(6, 8, 8);
  test::encode_video(src, dir.file("short.mkv"), test::kFfv1);
  VideoReader r(dir.file("short.mkv"));
  require_frames(r.read_clip(3, 4, 1, OutOfRange::kLoop), src, {3, 4, 5, 0});
  require_frames(r.read_clip(3, 4, 1, OutOfRange::kRepeatLast), src, {3, 4, 5, 5});
  REQUIRE_THROWS_WITH(r.read_clip(3, 4, 1),
                      Catch::Contains(dir.file("short.mkv")) && Catch::Contains("too short"));
  REQUIRE_THROWS_WITH(r.read_frames({6}), Catch::Contains("out of range"));
}

TEST_CASE("video reader: bad files give an IoError naming the file",
          "[data][video][errors][ffmpeg]") {
  test::TempDir dir;
  auto fails = [](const std::string& path, const std::string& fragment) {
    INFO(path);
    REQUIRE_THROWS_AS(VideoReader(path), IoError);
    REQUIRE_THROWS_WITH(VideoReader(path), Catch::Contains(path) && Catch::Contains(fragment));
  };
  fails(dir.file("missing.mp4"), "no such file");
  test::write_bytes(dir.file("empty.mp4"), "");
  fails(dir.file("empty.mp4"), "zero-length");
  std::string garbage(5000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919 + 13) % 251);
  test::write_bytes(dir.file("garbage.mp4"), garbage);
  fails(dir.file("garbage.mp4"), "not a readable video");
  fails(dir.path(), "not a regular file");

  // Audio only.
  const std::string audio = dir.file("audio.m4a");
  REQUIRE(std::system(("ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i sine=d=0.5 '" +
                       audio + "'")
                          .c_str()) == 0);
  fails(audio, "no video stream");

  // A truncated MP4 (the index sits at the end, so half a file has none).
  const Tensor src = test::pattern_frames(20, 16, 16);
  test::encode_video(src, dir.file("full.mp4"), test::kX264RgbLossless);
  const std::string full = test::read_bytes(dir.file("full.mp4"));
  test::write_bytes(dir.file("cut.mp4"), full.substr(0, full.size() / 2));
  fails(dir.file("cut.mp4"), "not a readable video");

  // A codec FFmpeg does not know: rename the H.264 codec id inside a Matroska file.
  test::encode_video(src, dir.file("h.mkv"), test::kX264BFrames);
  std::string mkv = test::read_bytes(dir.file("h.mkv"));
  const size_t at = mkv.find("V_MPEG4/ISO/AVC");
  REQUIRE(at != std::string::npos);
  mkv.replace(at, 15, "V_MPEG4/ISO/ZZZ");
  test::write_bytes(dir.file("unknown.mkv"), mkv);
  fails(dir.file("unknown.mkv"), "unsupported codec");
}

TEST_CASE("video reader: a truncated Matroska file keeps its whole frames",
          "[data][video][errors][ffmpeg]") {
  // Matroska has no index at the end: a cut file opens, and reading past the cut is an IoError that
  // names the file, never a crash.
  test::TempDir dir;
  const Tensor src = test::pattern_frames(24, 16, 16);
  test::encode_video(src, dir.file("full.mkv"), test::kFfv1);
  const std::string full = test::read_bytes(dir.file("full.mkv"));
  test::write_bytes(dir.file("cut.mkv"), full.substr(0, full.size() * 6 / 10));
  VideoReader r(dir.file("cut.mkv"));
  REQUIRE(r.num_frames() >= 1);
  REQUIRE(r.num_frames() < 24);
  require_frames(r.read_clip(0, 4), src, {0, 1, 2, 3});
}

TEST_CASE("video reader: a corrupt packet in the middle is an IoError naming file and frame",
          "[data][video][errors][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(20, 24, 32);
  test::encode_video(src, dir.file("h.mkv"), test::kX264BFrames);
  // Scramble the payload of the keyframe of the second GOP, keeping its NAL length prefix. The
  // damaged GOP is [its frame, the next keyframe's frame) in presentation order.
  const auto pk = test::packets(dir.file("h.mkv"));
  REQUIRE(pk.size() == 20);
  std::vector<int64_t> sorted_pts;
  for (const auto& p : pk) sorted_pts.push_back(p.pts);
  std::sort(sorted_pts.begin(), sorted_pts.end());
  auto frame_of = [&](int64_t pts) {
    return std::lower_bound(sorted_pts.begin(), sorted_pts.end(), pts) - sorted_pts.begin();
  };
  std::vector<int64_t> keyframes;
  for (const auto& p : pk)
    if (p.key) keyframes.push_back(frame_of(p.pts));
  std::sort(keyframes.begin(), keyframes.end());
  REQUIRE(keyframes.size() >= 3);
  const int64_t bad_lo = keyframes[1], bad_hi = keyframes[2];
  test::PacketInfo target;
  for (const auto& p : pk)
    if (p.key && frame_of(p.pts) == bad_lo) target = p;
  std::string bytes = test::read_bytes(dir.file("h.mkv"));
  for (int64_t i = target.pos + 10; i < target.pos + target.size; ++i)
    bytes[static_cast<size_t>(i)] ^= 0x5A;
  test::write_bytes(dir.file("bad.mkv"), bytes);

  VideoReader good(dir.file("h.mkv"));
  const Tensor reference = good.read_all();
  VideoReader r(dir.file("bad.mkv"));
  REQUIRE(r.num_frames() == 20);
  REQUIRE_THROWS_AS(r.read_all(), IoError);
  REQUIRE_THROWS_WITH(r.read_all(),
                      Catch::Contains(dir.file("bad.mkv")) && Catch::Contains("at frame"));
  // Frames of the first GOP still decode, also after the failure (up to the decoder's reorder
  // delay of 2 frames before the damage: their output needs the damaged packet to be sent).
  REQUIRE(bad_lo >= 3);
  const Tensor first = r.read_clip(0, bad_lo - 2);
  for (int64_t f = 0; f < bad_lo - 2; ++f) REQUIRE(same_frame(first, f, reference, f));
  REQUIRE_THROWS_WITH(r.read_frames({bad_lo}),
                      Catch::Contains("at frame " + std::to_string(bad_lo)));
  // Not strict: the damaged packet is dropped or concealed; a frame either decodes or is an
  // IoError naming the file, and every frame outside the damaged GOP has its exact pixels.
  VideoReaderOptions lenient;
  lenient.strict = false;
  VideoReader nr(dir.file("bad.mkv"), lenient);
  int64_t decoded = 0;
  for (int64_t f = 0; f < 20; ++f) {
    try {
      const Tensor one = nr.read_frames({f});
      if (f < bad_lo || f >= bad_hi) REQUIRE(same_frame(one, 0, reference, f));
      ++decoded;
    } catch (const IoError& e) {
      REQUIRE_THAT(e.what(), Catch::Contains(dir.file("bad.mkv")));
      REQUIRE((f >= bad_lo && f < bad_hi));
    }
  }
  REQUIRE(decoded >= 20 - (bad_hi - bad_lo));
}

TEST_CASE("video reader: variable frame rate keeps frame indices and real timestamps",
          "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(20, 24, 32);
  // Frames 0..4 every 40 ms, then every 120 ms.
  test::encode_video(src, dir.file("vfr.mkv"),
                     "-vf \"setpts='if(lt(N,5),N,N*3)/25/TB'\" -fps_mode passthrough -c:v ffv1");
  VideoReader r(dir.file("vfr.mkv"));
  REQUIRE(r.num_frames() == 20);
  REQUIRE(r.frame_time(4) == Approx(0.16).margin(1e-3));
  REQUIRE(r.frame_time(5) == Approx(0.60).margin(1e-3));
  REQUIRE(r.frame_time(18) == Approx(2.16).margin(1e-3));
  REQUIRE(r.frame_time(19) > r.frame_time(18));  // ffmpeg writes the last one at 2.24 s, not 2.28
  REQUIRE(r.info().duration_s > r.frame_time(19));
  require_frames(r.read_clip(3, 4, 2), src, {3, 5, 7, 9});
}

TEST_CASE("video reader: multithreaded decoding gives the same frames", "[data][video][ffmpeg]") {
  test::TempDir dir;
  const Tensor src = test::pattern_frames(24, 32, 32);
  test::encode_video(src, dir.file("bf.mp4"), test::kX264BFrames);
  VideoReader one(dir.file("bf.mp4"));
  VideoReaderOptions o;
  o.threads = 3;
  VideoReader three(dir.file("bf.mp4"), o);
  const std::vector<int64_t> idx{20, 2, 11, 12, 23, 0};
  const Tensor a = one.read_frames(idx), b = three.read_frames(idx);
  REQUIRE(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

TEST_CASE("video reader: random access equals sequential decoding across containers and codecs",
          "[data][video][ffmpeg]") {
  // Open GOPs (leading B-frames that cannot be decoded after a seek), an MP4 with an edit list
  // (stream-copied from mid-GOP), B-frames in AVI (no presentation timestamps), MPEG-TS (inexact
  // seeks), HEVC and VP9: every random read equals the frame of one sequential pass.
  test::TempDir dir;
  const std::string src = "-f lavfi -i testsrc2=size=96x64:rate=25 -t 4";
  struct Case {
    const char* name;
    std::string args;
  };
  const std::vector<Case> cases = {
      {"open_gop.mp4", src + " -c:v libx264 -x264-params open-gop=1:keyint=20:bframes=3"},
      {"open_gop.mkv", src + " -c:v libx264 -x264-params open-gop=1:keyint=30:bframes=3"},
      {"mpeg4.avi", src + " -c:v mpeg4 -bf 2 -g 12"},
      {"mpeg2.ts", src + " -c:v mpeg2video -bf 2 -g 15"},
      {"hevc.mp4", src + " -c:v libx265 -x265-params keyint=20:bframes=4:log-level=error"},
      {"vp9.webm", src + " -c:v libvpx-vp9 -g 25 -b:v 100k"},
      {"edit_list.mp4", "-ss 0.5 -i '" + dir.file("open_gop.mp4") + "' -c copy"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.file(c.name);
    test::run_capture("ffmpeg -hide_banner -loglevel error -nostdin -y " + c.args + " '" + path +
                      "'");
    VideoReader seq(path);
    INFO(c.name << ": " << seq.info().codec << ", " << seq.num_frames() << " frames");
    REQUIRE(seq.num_frames() >= (std::string(c.name) == "edit_list.mp4" ? 80 : 100));
    const Tensor all = seq.read_all();
    VideoReader r(path);
    Generator g(7);
    const int64_t n = r.num_frames();
    for (int it = 0; it < 60; ++it) {
      std::vector<int64_t> idx;
      if (it % 3 == 0) {
        const int64_t s = static_cast<int64_t>(g.uniform_int(static_cast<uint64_t>(n - 8)));
        for (int64_t j = 0; j < 8; ++j) idx.push_back(s + j);
      } else {
        const int k = 1 + static_cast<int>(g.uniform_int(3));
        for (int j = 0; j < k; ++j) idx.push_back(static_cast<int64_t>(g.uniform_int(n)));
      }
      const Tensor got = r.read_frames(idx);
      for (size_t j = 0; j < idx.size(); ++j) {
        INFO("read " << it << ": frame " << idx[j]);
        REQUIRE(same_frame(got, static_cast<int64_t>(j), all, idx[j]));
      }
    }
    // The last frames, which the decoder only gives out when it is drained.
    const Tensor tail = r.read_frames({n - 1, n - 2});
    REQUIRE(same_frame(tail, 0, all, n - 1));
  }
}
