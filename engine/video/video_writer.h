// Encoding RGB frames with FFmpeg's libraries: PNG images (libavcodec's PNG encoder) and video
// files (libavformat muxer + libavcodec encoder + libswscale conversion to the encoder's pixel
// format).
//
// Frames are u8 (T, H, W, 3) RGB tensors on the CPU, the layout VideoReader returns. Files are
// written under a temporary name in the same folder and renamed when complete, so a failure never
// leaves a half-written file under the real name. Every failure is an IoError whose message starts
// with the file name (a folder that cannot be written, a container FFmpeg does not know, no working
// encoder, an encoding error); wrong tensors are ShapeError / TypeError naming the function.
//
// Video encoder choice: with no encoder named, the candidates are tried in this order and the first
// one that the container accepts and that opens is used:
//   libx264 (H.264), libopenh264 (H.264), mpeg4 (MPEG-4 part 2), libvpx-vp9, mjpeg, ffv1.
// Hardware encoders (h264_nvenc, h264_vaapi, ...) are only used when named. The pixel format is
// 4:2:0 (yuv420p, or mjpeg's full-range yuvj420p) when the encoder takes it (what players expect),
// otherwise the format FFmpeg rates closest to RGB24. A chroma-subsampled format needs even sizes:
// an odd width or height is padded by repeating the last column / row, and the result reports the
// encoded size. Quality: libx264 at crf 18, libvpx-vp9 at crf 24, others at quantiser 2 (close to
// lossless for colour-coded images). Frame i gets presentation time i / fps.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace asn::video {

// PNG bytes of one image (H, W, 3) u8 RGB.
std::string encode_png(const Tensor& image);
// Writes image (H, W, 3) u8 RGB to `path` as a PNG file.
void write_png(const Tensor& image, const std::string& path);
// Writes frames (T, H, W, 3) u8 as `<folder>/<prefix><t>.png` with t = 0..T-1 in five digits
// (frame_00000.png, ...), creating the folder when needed. Returns the paths in order.
std::vector<std::string> write_png_sequence(const Tensor& frames, const std::string& folder,
                                            const std::string& prefix = "frame_");

struct VideoWriterOptions {
  double fps = 25;      // frames per second (> 0)
  std::string encoder;  // an FFmpeg encoder name ("libx264", "mpeg4", "h264_nvenc", ...); empty:
                        // the first working candidate of the list in the header comment
  int threads = 0;      // encoder threads (0: FFmpeg's choice)
};

// What write_video did.
struct VideoWriteInfo {
  std::string container;     // FFmpeg's short muxer name, e.g. "mp4", "matroska"
  std::string encoder;       // e.g. "libx264"
  std::string codec;         // e.g. "h264"
  std::string pixel_format;  // e.g. "yuv420p"
  int width = 0;             // encoded frame size (the input's, or one more when padded to even)
  int height = 0;
  int64_t frames = 0;
  double fps = 0;
  // Candidates tried before the chosen one and why they were passed over, e.g.
  // "libx264: not in this FFmpeg build".
  std::vector<std::string> skipped;
};

// Encodes frames (T, H, W, 3) u8 RGB into `path`; the container follows the file name's extension
// (.mp4, .mkv, .avi, .mov, .webm, ...).
VideoWriteInfo write_video(const Tensor& frames, const std::string& path,
                           const VideoWriterOptions& options = {});

// The encoder candidates write_video tries when none is named, in order.
const std::vector<std::string>& default_video_encoders();

// Whether this FFmpeg build has an encoder named `name` ("libx264", "mpeg4", ...); always false in
// a build without FFmpeg (video_backend.h).
bool has_video_encoder(const std::string& name);

}  // namespace asn::video
