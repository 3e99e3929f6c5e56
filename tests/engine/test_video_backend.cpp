// The video backend matches the build: ASN_EXPECT_FFMPEG (set on this file only, from CMake's
// ASN_FFMPEG_ENABLED) says whether FFmpeg was configured in. With FFmpeg the real reader and
// writer are linked (a missing file is the reader's own IoError, PNG encoding works). Without it
// every entry point that would open, decode or encode video throws an IoError that names the
// function and the file, says the build has no FFmpeg and how to get one; a video dataset refuses
// to be built; the codec-free helpers (clip_frame_indices, policies) still work.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "engine/data/video_dataset.h"
#include "engine/error.h"
#include "engine/video/video_backend.h"
#include "engine/video/video_reader.h"
#include "engine/video/video_writer.h"

#ifndef ASN_EXPECT_FFMPEG
#error "tests/CMakeLists.txt sets ASN_EXPECT_FFMPEG on this file"
#endif

using namespace asn;
using namespace asn::video;
namespace fs = std::filesystem;

namespace {

const std::string kNoFfmpeg =
    ": asn was built without FFmpeg (ASN_WITH_FFMPEG=OFF or libav* not found); ";
const std::string kHowTo = ". Install libavformat-dev libavcodec-dev libswscale-dev and rebuild.";

data::VideoFileDataset one_video_dataset(const std::string& path) {
  return data::VideoFileDataset({data::VideoItem{path, {0}, {}, "list.txt:1"}},
                                data::LabelKind::kSingle, 2, {}, data::VideoDatasetOptions{});
}

}  // namespace

TEST_CASE("video backend: the build's FFmpeg choice decides what video calls do",
          "[video_backend][errors]") {
  REQUIRE(ffmpeg_available() == static_cast<bool>(ASN_EXPECT_FFMPEG));
  const std::string dir = (fs::temp_directory_path() / "asn_video_backend_test").string();
  fs::remove_all(dir);
  const std::string clip = dir + "/clip.mp4";
  const Tensor frames = Tensor::zeros(Shape{2, 8, 8, 3}, DType::u8);
  const Tensor image = Tensor::zeros(Shape{8, 8, 3}, DType::u8);

  // Needs no codec: the same in both builds.
  REQUIRE(clip_frame_indices(6, 4, 2, 10, OutOfRange::kLoop, "v") ==
          std::vector<int64_t>{6, 8, 0, 2});
  REQUIRE(out_of_range_from_name("repeat_last") == OutOfRange::kRepeatLast);

  if (ffmpeg_available()) {
    REQUIRE_THROWS_AS(VideoReader(clip), IoError);
    REQUIRE_THROWS_WITH(VideoReader(clip),
                        Catch::Contains(clip) && !Catch::Contains("built without FFmpeg"));
    REQUIRE(encode_png(image).substr(1, 3) == "PNG");
    REQUIRE_FALSE(default_video_encoders().empty());
    REQUIRE(has_video_encoder("png"));
    REQUIRE_NOTHROW(one_video_dataset(clip));  // files are opened per item, later
    return;
  }

  auto says_no_ffmpeg = [](const std::string& what, const std::string& task) {
    return Catch::StartsWith(what + kNoFfmpeg + task + kHowTo);
  };
  REQUIRE_THROWS_AS(VideoReader(clip), IoError);
  REQUIRE_THROWS_WITH(VideoReader(clip),
                      says_no_ffmpeg("VideoReader", "cannot decode '" + clip + "'"));
  REQUIRE_THROWS_WITH(VideoReader(clip, VideoReaderOptions{4, false}),
                      says_no_ffmpeg("VideoReader", "cannot decode '" + clip + "'"));
  REQUIRE_THROWS_AS(write_video(frames, clip), IoError);
  REQUIRE_THROWS_WITH(write_video(frames, clip),
                      says_no_ffmpeg("write_video", "cannot encode '" + clip + "'"));
  REQUIRE_THROWS_WITH(write_png(image, dir + "/a.png"),
                      says_no_ffmpeg("write_png", "cannot encode '" + dir + "/a.png'"));
  REQUIRE_THROWS_WITH(write_png_sequence(frames, dir, "f_"),
                      says_no_ffmpeg("write_png_sequence", "cannot encode '" + dir + "/f_*.png'"));
  REQUIRE_THROWS_WITH(encode_png(image), says_no_ffmpeg("encode_png", "cannot encode a PNG image"));
  REQUIRE(default_video_encoders().empty());
  REQUIRE_FALSE(has_video_encoder("png"));
  // A video dataset fails when built, not item by item in the loader.
  REQUIRE_THROWS_AS(one_video_dataset(clip), IoError);
  REQUIRE_THROWS_WITH(one_video_dataset(clip),
                      says_no_ffmpeg("video dataset", "cannot decode '" + clip + "'"));
  // Nothing was written.
  REQUIRE_FALSE(fs::exists(dir));
}
