// VideoReader: exact, frame-indexed decoding of one video file with FFmpeg's libraries.
//
// Opening a file demuxes it once without decoding (cheap: packets are only read, not decoded) and
// builds a frame index: the presentation timestamps of every video frame, sorted, and which of them
// are keyframes. Frame i is the i-th frame in presentation order, counted from 0, whatever the
// container's header claims (TorchCodec's "exact" mode). Reading frames seeks backward to the
// keyframe at or before the first wanted frame, decodes forward, drops frames before the target and
// converts the wanted ones to RGB with libswscale. Results are (T, H, W, 3) u8 tensors.
//
// Failures are IoErrors whose message starts with the file name: a missing file, a zero-length
// file, something that is not a video or has no video stream, a codec FFmpeg cannot decode, a
// stream without frames, a decode error (naming the frame), and a clip that runs past the end when
// the caller chose OutOfRange::kError. A reader is not thread-safe; use one reader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace asn::video {

// What a clip that runs past the last frame does.
enum class OutOfRange {
  kError,       // throw IoError ("<file>: clip needs frames 0..39 but the video has 30 frames")
  kLoop,        // wrap around: frame index i reads frame i % num_frames (MMAction2 "loop")
  kRepeatLast,  // clamp: indices past the end read the last frame (MMAction2 "repeat_last")
};
// "error", "loop", "repeat_last".
const char* out_of_range_name(OutOfRange p);
OutOfRange out_of_range_from_name(const std::string& name);

struct VideoInfo {
  int64_t num_frames = 0;  // exact: counted from the frame index
  double fps = 0;          // the stream's average frame rate (or frames / duration when absent)
  int width = 0;           // decoded frame size in pixels
  int height = 0;
  double duration_s = 0;      // from the first frame's timestamp to the end of the last frame
  std::string codec;          // FFmpeg's short codec name, e.g. "h264", "ffv1"
  int64_t header_frames = 0;  // what the container claimed (0 = nothing); informational only
};

struct VideoReaderOptions {
  int threads = 1;  // FFmpeg decoder threads inside this reader (0 = FFmpeg's choice)
  // Strict: corruption the decoder or demuxer detects is an IoError. Not strict: concealed frames
  // are accepted, undecodable packets dropped, and a container that breaks off keeps the frames
  // before the damage (a wanted frame that cannot be decoded is still an IoError).
  bool strict = true;
};

class VideoReader {
 public:
  // Opens and indexes `path`. Throws IoError naming the file (see the header comment).
  explicit VideoReader(const std::string& path, const VideoReaderOptions& options = {});
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;
  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;

  const std::string& path() const;
  const VideoInfo& info() const;
  int64_t num_frames() const { return info().num_frames; }
  // Presentation time of frame i in seconds, relative to frame 0.
  double frame_time(int64_t i) const;

  // Frames `indices` (any order, repeats allowed, each in [0, num_frames)) as (len, H, W, 3) u8.
  Tensor read_frames(const std::vector<int64_t>& indices);
  // T frames start, start + stride, ..., start + (T - 1) * stride, past the end as `policy` says.
  Tensor read_clip(int64_t start, int64_t num_frames, int64_t stride = 1,
                   OutOfRange policy = OutOfRange::kError);
  // Every frame, in order.
  Tensor read_all();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The frame indices of a clip of `count` frames at `stride` from `start` in a video of `num_frames`
// frames, with `policy` applied past the end. Throws IoError naming `source` for kError.
std::vector<int64_t> clip_frame_indices(int64_t start, int64_t count, int64_t stride,
                                        int64_t num_frames, OutOfRange policy,
                                        const std::string& source);

}  // namespace asn::video
