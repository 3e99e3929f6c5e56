// Whether this build decodes and encodes video with FFmpeg's libraries.
//
// CMake's ASN_WITH_FFMPEG decides it (AUTO: when pkg-config finds libavformat, libavcodec,
// libswscale and libavutil). Without FFmpeg, engine/video/video_unavailable.cpp stands in for
// video_reader.cpp and video_writer.cpp: the same classes and functions, each throwing an IoError
// built by no_ffmpeg_message() when asked to open, decode or encode anything. Everything that
// needs no codec (the synthetic dataset, clip_frame_indices, flow colours) works in both builds.
#pragma once

#include <string>

namespace asn::video {

// True when built with FFmpeg (video_reader.cpp), false otherwise (video_unavailable.cpp).
bool ffmpeg_available();

// "<what>: asn was built without FFmpeg (ASN_WITH_FFMPEG=OFF or libav* not found); <task>.
// Install libavformat-dev libavcodec-dev libswscale-dev and rebuild."
// `task` says what could not be done, e.g. "cannot decode 'clip.mp4'".
std::string no_ffmpeg_message(const std::string& what, const std::string& task);

}  // namespace asn::video
