// PNG and video encoding on libavcodec, libavformat and libswscale (see video_writer.h).
#include "engine/video/video_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <unistd.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/log.h"

namespace asn::video {

namespace {

std::string av_error_string(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

// FFmpeg's console output (libx264 prints its settings at info level) goes to the engine's logger
// at debug level, as VideoReader does: failures reach the caller as IoErrors naming the file. The
// callback is the same behaviour as the reader's; whichever installs last wins, harmlessly.
void writer_log_callback(void* avcl, int level, const char* fmt_str, va_list args) {
  if (level > AV_LOG_WARNING || !logger()->should_log(spdlog::level::debug)) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, fmt_str, args, line, sizeof(line), &print_prefix);
  std::string msg(line);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  if (!msg.empty()) ASN_LOG_DEBUG("ffmpeg: {}", msg);
}

void route_ffmpeg_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(writer_log_callback); });
}

void check_frames(const Tensor& frames, const char* fn) {
  ASN_CHECK_TYPE(frames.dtype() == DType::u8 && frames.device().is_cpu(),
                 "{}: needs u8 RGB frames on the CPU, got {}", fn, describe(frames));
  ASN_CHECK_SHAPE(frames.rank() == 4 && frames.dim(3) == 3 && frames.dim(0) >= 1 &&
                      frames.dim(1) >= 1 && frames.dim(2) >= 1,
                  "{}: needs frames (T, H, W, 3) with T, H, W >= 1, got {}", fn, describe(frames));
  ASN_CHECK_SHAPE(frames.dim(1) <= 16384 && frames.dim(2) <= 16384,
                  "{}: frames of {} x {} pixels are too large to encode", fn, frames.dim(2),
                  frames.dim(1));
}

// Owns the encoder objects of one call; frees them in any case.
struct Codec {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  ~Codec() {
    if (pkt) av_packet_free(&pkt);
    if (frame) av_frame_free(&frame);
    if (ctx) avcodec_free_context(&ctx);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// PNG

std::string encode_png(const Tensor& image) {
  ASN_CHECK_TYPE(image.dtype() == DType::u8 && image.device().is_cpu(),
                 "encode_png: needs a u8 RGB image on the CPU, got {}", describe(image));
  ASN_CHECK_SHAPE(image.rank() == 3 && image.dim(2) == 3 && image.dim(0) >= 1 && image.dim(1) >= 1,
                  "encode_png: needs an image (H, W, 3), got {}", describe(image));
  route_ffmpeg_logs();
  const int H = static_cast<int>(image.dim(0)), W = static_cast<int>(image.dim(1));
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (!codec) ASN_THROW(IoError, "encode_png: this FFmpeg build has no PNG encoder");
  Codec c;
  c.ctx = avcodec_alloc_context3(codec);
  c.frame = av_frame_alloc();
  c.pkt = av_packet_alloc();
  if (!c.ctx || !c.frame || !c.pkt) ASN_THROW(IoError, "encode_png: out of memory");
  c.ctx->width = W;
  c.ctx->height = H;
  c.ctx->pix_fmt = AV_PIX_FMT_RGB24;
  c.ctx->time_base = AVRational{1, 25};
  int err = avcodec_open2(c.ctx, codec, nullptr);
  if (err < 0)
    ASN_THROW(IoError, "encode_png: cannot open the PNG encoder: {}", av_error_string(err));
  c.frame->format = AV_PIX_FMT_RGB24;
  c.frame->width = W;
  c.frame->height = H;
  err = av_frame_get_buffer(c.frame, 0);
  if (err < 0) ASN_THROW(IoError, "encode_png: {}", av_error_string(err));
  const uint8_t* src = image.data<uint8_t>();
  for (int y = 0; y < H; ++y) {
    std::memcpy(c.frame->data[0] + static_cast<size_t>(y) * c.frame->linesize[0],
                src + static_cast<size_t>(y) * W * 3, static_cast<size_t>(W) * 3);
  }
  std::string bytes;
  err = avcodec_send_frame(c.ctx, c.frame);
  if (err >= 0) err = avcodec_send_frame(c.ctx, nullptr);
  while (err >= 0) {
    err = avcodec_receive_packet(c.ctx, c.pkt);
    if (err < 0) break;
    bytes.append(reinterpret_cast<const char*>(c.pkt->data), static_cast<size_t>(c.pkt->size));
    av_packet_unref(c.pkt);
  }
  if (err != AVERROR_EOF)
    ASN_THROW(IoError, "encode_png: encoding failed: {}", av_error_string(err));
  return bytes;
}

void write_png(const Tensor& image, const std::string& path) {
  std::string bytes;
  try {
    bytes = encode_png(image);
  } catch (const IoError& e) {
    ASN_THROW(IoError, "{}: {}", path, e.what());
  }
  io::write_file_atomic(path, bytes);
}

std::vector<std::string> write_png_sequence(const Tensor& frames, const std::string& folder,
                                            const std::string& prefix) {
  check_frames(frames, "write_png_sequence");
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) ASN_THROW(IoError, "{}: cannot create the folder: {}", folder, ec.message());
  std::vector<std::string> paths;
  for (int64_t t = 0; t < frames.dim(0); ++t) {
    paths.push_back(fmt::format("{}/{}{:05d}.png", folder, prefix, t));
    write_png(frames.narrow0(t, 1).reshape(Shape{frames.dim(1), frames.dim(2), 3}), paths.back());
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Video

const std::vector<std::string>& default_video_encoders() {
  static const std::vector<std::string> list{"libx264",    "libopenh264", "mpeg4",
                                             "libvpx-vp9", "mjpeg",       "ffv1"};
  return list;
}

bool has_video_encoder(const std::string& name) {
  return avcodec_find_encoder_by_name(name.c_str()) != nullptr;
}

namespace {

// Owns the muxer of one write_video call. Unless commit() ran, the destructor closes and removes
// the temporary file.
struct Muxer {
  std::string path, tmp;
  AVFormatContext* oc = nullptr;
  bool committed = false;
  ~Muxer() {
    if (oc) {
      if (oc->pb) avio_closep(&oc->pb);
      avformat_free_context(oc);
    }
    if (!committed && !tmp.empty()) std::remove(tmp.c_str());
  }
};

AVPixelFormat choose_pixel_format(const AVCodec* codec) {
  if (!codec->pix_fmts) return AV_PIX_FMT_RGB24;
  // 4:2:0 in the encoder's own preference order (mjpeg lists its full-range yuvj420p first).
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == AV_PIX_FMT_YUV420P || *p == AV_PIX_FMT_YUVJ420P) return *p;
  return avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, AV_PIX_FMT_RGB24, 0, nullptr);
}

// Opens `codec` for frames of (w, h) at `rate` into c (fresh objects). Returns "" on success, else
// why not (the caller moves on to the next candidate).
std::string try_open(Codec& c, const AVCodec* codec, int w, int h, AVRational rate,
                     bool global_header, int threads) {
  const AVPixelFormat pix = choose_pixel_format(codec);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(pix);
  if (!desc) return "no usable pixel format";
  // Chroma-subsampled formats need sizes divisible by the subsampling: pad up.
  const int sx = 1 << desc->log2_chroma_w, sy = 1 << desc->log2_chroma_h;
  c.ctx = avcodec_alloc_context3(codec);
  if (!c.ctx) return "out of memory";
  c.ctx->width = (w + sx - 1) / sx * sx;
  c.ctx->height = (h + sy - 1) / sy * sy;
  c.ctx->pix_fmt = pix;
  c.ctx->time_base = av_inv_q(rate);
  c.ctx->framerate = rate;
  c.ctx->gop_size = 12;
  c.ctx->thread_count = threads;
  const bool full_range = (desc->flags & AV_PIX_FMT_FLAG_RGB) || pix == AV_PIX_FMT_YUVJ420P;
  c.ctx->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  if (!(desc->flags & AV_PIX_FMT_FLAG_RGB)) c.ctx->colorspace = AVCOL_SPC_SMPTE170M;  // BT.601
  // Quality: constant rate factor where the encoder has one, else a fixed fine quantiser.
  c.ctx->bit_rate = std::max<int64_t>(
      400000, static_cast<int64_t>(4.0 * c.ctx->width * c.ctx->height * av_q2d(rate)));
  if (av_opt_find(c.ctx->priv_data, "crf", nullptr, 0, 0)) {
    av_opt_set(c.ctx->priv_data, "crf", std::string(codec->name) == "libvpx-vp9" ? "24" : "18", 0);
    if (std::string(codec->name) == "libvpx-vp9") c.ctx->bit_rate = 0;  // constant quality mode
  } else {
    c.ctx->flags |= AV_CODEC_FLAG_QSCALE;
    c.ctx->global_quality = FF_QP2LAMBDA * 2;
  }
  if (global_header) c.ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int err = avcodec_open2(c.ctx, codec, nullptr);
  if (err < 0) {
    avcodec_free_context(&c.ctx);
    return "cannot open: " + av_error_string(err);
  }
  return "";
}

}  // namespace

VideoWriteInfo write_video(const Tensor& frames, const std::string& path,
                           const VideoWriterOptions& options) {
  check_frames(frames, "write_video");
  ASN_CHECK(std::isfinite(options.fps) && options.fps > 0, "write_video: fps must be > 0, got {}",
            options.fps);
  route_ffmpeg_logs();
  const int T = static_cast<int>(frames.dim(0));
  const int H = static_cast<int>(frames.dim(1)), W = static_cast<int>(frames.dim(2));
  VideoWriteInfo info;

  Muxer mux;
  mux.path = path;
  int err = avformat_alloc_output_context2(&mux.oc, nullptr, nullptr, path.c_str());
  if (err < 0 || !mux.oc) {
    mux.oc = nullptr;
    ASN_THROW(IoError,
              "{}: FFmpeg knows no container for this file name (use .mp4, .mkv, .avi, ...)", path);
  }
  const AVOutputFormat* ofmt = mux.oc->oformat;
  info.container = ofmt->name;

  // The encoder: the named one, or the first candidate that the container takes and that opens.
  const AVRational rate = av_d2q(options.fps, 60000);
  const bool global_header = (ofmt->flags & AVFMT_GLOBALHEADER) != 0;
  const std::vector<std::string> candidates = options.encoder.empty()
                                                  ? default_video_encoders()
                                                  : std::vector<std::string>{options.encoder};
  Codec c;
  const AVCodec* codec = nullptr;
  for (const std::string& name : candidates) {
    const AVCodec* cand = avcodec_find_encoder_by_name(name.c_str());
    std::string why;
    if (!cand || cand->type != AVMEDIA_TYPE_VIDEO) {
      why = "not in this FFmpeg build";
    } else if (avformat_query_codec(ofmt, cand->id, FF_COMPLIANCE_NORMAL) == 0) {
      why =
          fmt::format("the {} container does not take {}", ofmt->name, avcodec_get_name(cand->id));
    } else {
      why = try_open(c, cand, W, H, rate, global_header, options.threads);
    }
    if (why.empty()) {
      codec = cand;
      break;
    }
    info.skipped.push_back(name + ": " + why);
  }
  if (!codec) {
    std::string tried;
    for (const auto& s : info.skipped) tried += (tried.empty() ? "" : "; ") + s;
    ASN_THROW(IoError, "{}: no usable video encoder ({})", path, tried);
  }
  info.encoder = codec->name;
  info.codec = avcodec_get_name(codec->id);
  info.pixel_format = av_get_pix_fmt_name(c.ctx->pix_fmt);
  info.width = c.ctx->width;
  info.height = c.ctx->height;
  info.fps = av_q2d(rate);

  auto fail = [&](const std::string& what, int code) {
    ASN_THROW(IoError, "{}: {}: {}", path, what, av_error_string(code));
  };
  AVStream* st = avformat_new_stream(mux.oc, nullptr);
  if (!st) ASN_THROW(IoError, "{}: cannot add a video stream", path);
  st->time_base = c.ctx->time_base;
  st->avg_frame_rate = rate;
  err = avcodec_parameters_from_context(st->codecpar, c.ctx);
  if (err < 0) fail("cannot set the stream parameters", err);

  // Written under a temporary name (the muxer was chosen from the real one), renamed at the end.
  mux.tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
  err = avio_open(&mux.oc->pb, mux.tmp.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) fail("cannot create the file", err);
  err = avformat_write_header(mux.oc, nullptr);
  if (err < 0) fail("cannot write the header", err);

  c.frame = av_frame_alloc();
  c.pkt = av_packet_alloc();
  if (!c.frame || !c.pkt) ASN_THROW(IoError, "{}: out of memory", path);
  c.frame->format = c.ctx->pix_fmt;
  c.frame->width = c.ctx->width;
  c.frame->height = c.ctx->height;
  err = av_frame_get_buffer(c.frame, 0);
  if (err < 0) fail("cannot allocate a frame", err);

  // RGB24 (padded to the encoded size by edge repetition) -> the encoder's format.
  const int EW = c.ctx->width, EH = c.ctx->height;
  SwsContext* sws = sws_getContext(EW, EH, AV_PIX_FMT_RGB24, EW, EH, c.ctx->pix_fmt,
                                   SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
  if (!sws) ASN_THROW(IoError, "{}: cannot convert RGB24 to {}", path, info.pixel_format);
  struct SwsFree {
    SwsContext* s;
    ~SwsFree() { sws_freeContext(s); }
  } sws_free{sws};
  std::vector<uint8_t> rgb(static_cast<size_t>(EW) * EH * 3);

  auto drain = [&]() {
    while (true) {
      const int r = avcodec_receive_packet(c.ctx, c.pkt);
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) fail("encoding failed", r);
      av_packet_rescale_ts(c.pkt, c.ctx->time_base, st->time_base);
      c.pkt->stream_index = st->index;
      const int w = av_interleaved_write_frame(mux.oc, c.pkt);
      if (w < 0) fail("cannot write a packet", w);
    }
  };
  const uint8_t* src = frames.data<uint8_t>();
  for (int t = 0; t < T; ++t) {
    const uint8_t* f = src + static_cast<size_t>(t) * H * W * 3;
    for (int y = 0; y < EH; ++y) {
      const uint8_t* row = f + static_cast<size_t>(std::min(y, H - 1)) * W * 3;
      uint8_t* out = rgb.data() + static_cast<size_t>(y) * EW * 3;
      std::memcpy(out, row, static_cast<size_t>(W) * 3);
      for (int x = W; x < EW; ++x) std::memcpy(out + x * 3, row + (W - 1) * 3, 3);
    }
    err = av_frame_make_writable(c.frame);
    if (err < 0) fail("cannot reuse the frame buffer", err);
    const uint8_t* in_planes[1] = {rgb.data()};
    const int in_strides[1] = {EW * 3};
    sws_scale(sws, in_planes, in_strides, 0, EH, c.frame->data, c.frame->linesize);
    c.frame->pts = t;
    err = avcodec_send_frame(c.ctx, c.frame);
    if (err < 0) fail(fmt::format("cannot encode frame {}", t), err);
    drain();
  }
  err = avcodec_send_frame(c.ctx, nullptr);
  if (err < 0) fail("cannot flush the encoder", err);
  drain();
  err = av_write_trailer(mux.oc);
  if (err < 0) fail("cannot finish the file", err);
  err = avio_closep(&mux.oc->pb);
  if (err < 0) fail("cannot close the file", err);
  if (std::rename(mux.tmp.c_str(), path.c_str()) != 0) {
    ASN_THROW(IoError, "{}: cannot rename '{}' to it: {}", path, mux.tmp, std::strerror(errno));
  }
  mux.committed = true;
  info.frames = T;
  return info;
}

}  // namespace asn::video
