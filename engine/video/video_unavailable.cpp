// Video decoding and encoding in a build without FFmpeg (ASN_WITH_FFMPEG=OFF, or AUTO without the
// libav* libraries): compiled instead of video_reader.cpp and video_writer.cpp, it defines the same
// classes and functions so that everything else links, and each of them throws an IoError saying
// that this build cannot decode or encode video, naming the file, and how to get a build that can
// (video_backend.h). Nothing here pretends to decode: opening a VideoReader always throws.
#include "engine/error.h"
#include "engine/video/video_backend.h"
#include "engine/video/video_reader.h"
#include "engine/video/video_writer.h"

namespace asn::video {

bool ffmpeg_available() { return false; }

namespace {

[[noreturn]] void unavailable(const std::string& what, const std::string& task) {
  ASN_THROW(IoError, "{}", no_ffmpeg_message(what, task));
}

}  // namespace

// A reader is never constructed in this build, so the accessors below cannot be reached through a
// valid object; they throw rather than return something made up.
struct VideoReader::Impl {};

VideoReader::VideoReader(const std::string& path, const VideoReaderOptions& options) {
  unavailable("VideoReader", "cannot decode '" + path + "'");
}
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

const std::string& VideoReader::path() const {
  unavailable("VideoReader::path", "no video is open");
}
const VideoInfo& VideoReader::info() const { unavailable("VideoReader::info", "no video is open"); }
double VideoReader::frame_time(int64_t) const {
  unavailable("VideoReader::frame_time", "no video is open");
}
Tensor VideoReader::read_frames(const std::vector<int64_t>&) {
  unavailable("VideoReader::read_frames", "no video is open");
}
Tensor VideoReader::read_clip(int64_t, int64_t, int64_t, OutOfRange) {
  unavailable("VideoReader::read_clip", "no video is open");
}
Tensor VideoReader::read_all() { unavailable("VideoReader::read_all", "no video is open"); }

std::string encode_png(const Tensor&) { unavailable("encode_png", "cannot encode a PNG image"); }

void write_png(const Tensor&, const std::string& path) {
  unavailable("write_png", "cannot encode '" + path + "'");
}

std::vector<std::string> write_png_sequence(const Tensor&, const std::string& folder,
                                            const std::string& prefix) {
  unavailable("write_png_sequence", "cannot encode '" + folder + "/" + prefix + "*.png'");
}

VideoWriteInfo write_video(const Tensor&, const std::string& path, const VideoWriterOptions&) {
  unavailable("write_video", "cannot encode '" + path + "'");
}

// write_video tries no encoder in this build.
const std::vector<std::string>& default_video_encoders() {
  static const std::vector<std::string> none;
  return none;
}

bool has_video_encoder(const std::string&) { return false; }

}  // namespace asn::video
