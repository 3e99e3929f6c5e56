// The parts of engine/video that need no codec, compiled with and without FFmpeg: the
// out-of-range policies and clip frame indices of video_reader.h, and the message of
// video_backend.h for builds without FFmpeg.
#include "engine/error.h"
#include "engine/video/video_backend.h"
#include "engine/video/video_reader.h"

namespace asn::video {

const char* out_of_range_name(OutOfRange p) {
  switch (p) {
    case OutOfRange::kError:
      return "error";
    case OutOfRange::kLoop:
      return "loop";
    case OutOfRange::kRepeatLast:
      return "repeat_last";
  }
  return "?";
}

OutOfRange out_of_range_from_name(const std::string& name) {
  if (name == "error") return OutOfRange::kError;
  if (name == "loop") return OutOfRange::kLoop;
  if (name == "repeat_last") return OutOfRange::kRepeatLast;
  ASN_THROW(ValueError, "unknown out-of-range policy '{}' (error, loop, repeat_last)", name);
}

std::vector<int64_t> clip_frame_indices(int64_t start, int64_t count, int64_t stride,
                                        int64_t num_frames, OutOfRange policy,
                                        const std::string& source) {
  ASN_CHECK(count >= 1 && stride >= 1 && start >= 0,
            "clip_frame_indices: needs count >= 1, stride >= 1, start >= 0 (got {}, {}, {})", count,
            stride, start);
  ASN_CHECK_AS(IoError, num_frames >= 1, "{}: the video has no frames", source);
  std::vector<int64_t> idx(static_cast<size_t>(count));
  const int64_t last = start + (count - 1) * stride;
  if (last >= num_frames && policy == OutOfRange::kError) {
    ASN_THROW(IoError,
              "{}: too short: the clip needs frames {}..{} (stride {}) but the video has {} frames",
              source, start, last, stride, num_frames);
  }
  for (int64_t t = 0; t < count; ++t) {
    int64_t i = start + t * stride;
    if (i >= num_frames) i = policy == OutOfRange::kLoop ? i % num_frames : num_frames - 1;
    idx[static_cast<size_t>(t)] = i;
  }
  return idx;
}

std::string no_ffmpeg_message(const std::string& what, const std::string& task) {
  return fmt::format(
      "{}: asn was built without FFmpeg (ASN_WITH_FFMPEG=OFF or libav* not found); {}. Install "
      "libavformat-dev libavcodec-dev libswscale-dev and rebuild.",
      what, task);
}

}  // namespace asn::video
