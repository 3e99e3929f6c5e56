// VideoReader on libavformat (demux), libavcodec (decode) and libswscale (to RGB24).
//
// The frame index is built at open time from the packets of the video stream: their presentation
// timestamps sorted ascending give frame 0, 1, 2, ...; keyframe flags tell where a seek can land.
// Decoded frames are matched to the index by timestamp, so frame i is exact even when seeking
// lands on an earlier keyframe. A stream whose packets lack timestamps (or repeat one) falls back
// to "sequential" mode: frame i is the i-th frame the decoder outputs after a restart from the
// beginning of the file (correct, slower for late frames). The out-of-range policies and
// clip_frame_indices, which need no codec, are in video_common.cpp.
#include "engine/video/video_reader.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <sys/stat.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/video/video_backend.h"

namespace asn::video {

bool ffmpeg_available() { return true; }

namespace {

std::string av_error_string(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

constexpr int64_t kNeedSeek = -2;  // decoder position unknown: the next read must seek

// FFmpeg's own messages go to the engine's logger at debug level: failures reach the caller as
// IoErrors with the file name, so FFmpeg's console chatter would only repeat them without it.
void ffmpeg_log_callback(void* avcl, int level, const char* fmt_str, va_list args) {
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
  std::call_once(once, [] { av_log_set_callback(ffmpeg_log_callback); });
}

}  // namespace

struct VideoReader::Impl {
  std::string path;
  VideoReaderOptions options;
  VideoInfo info;
  AVFormatContext* fmt = nullptr;
  AVCodecContext* dec = nullptr;
  const AVCodec* codec = nullptr;
  SwsContext* sws = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* frame = nullptr;
  int stream = -1;
  AVRational time_base{1, 1};

  std::vector<int64_t> pts;  // sorted presentation timestamps: pts[i] is frame i
  std::vector<int64_t> dur;  // packet durations (time_base units, 0 when unknown)
  std::vector<char> key;     // frame i is a keyframe
  bool sequential = false;   // no usable timestamps: count frames from the start

  int64_t pos = kNeedSeek;  // index of the last frame the decoder produced (-1: none yet)
  bool flushed = false;     // end of file reached and the decoder drained
  int64_t counter = 0;      // sequential mode: frames output since the last restart
  // During read(): the wanted frame indices. Packets of other frames are sent with
  // skip_frame = AVDISCARD_NONREF, so the decoder skips the ones nothing else refers to (B-frames
  // between the keyframe and the target): same output, less decoding.
  const std::map<int64_t, std::vector<int64_t>>* wanted = nullptr;
  bool allow_skip = true;  // false after skipping went wrong once in this read
  // Frames whose packets went to the decoder with AVDISCARD_NONREF since the last seek: they may
  // never come out, so a later read that wants one of them must seek.
  std::set<int64_t> skipped;
  // After a seek to keyframe k: once k's packet has been sent, packets of frames before k are not
  // sent. They are leading pictures of an open GOP (B-frames that refer to the GOP before the
  // keyframe, undecodable after a seek) and no frame from k on needs them. Packets before k's in
  // decode order (the seek may land on an earlier keyframe) are all decoded normally.
  int64_t drop_before = -1;
  bool seek_key_sent = false;

  ~Impl() { close(); }

  void close() {
    if (sws) sws_freeContext(sws);
    sws = nullptr;
    if (frame) av_frame_free(&frame);
    if (pkt) av_packet_free(&pkt);
    if (dec) avcodec_free_context(&dec);
    if (fmt) avformat_close_input(&fmt);
  }

  [[noreturn]] void fail(const std::string& what) const {
    ASN_THROW(IoError, "{}: {}", path, what);
  }

  void open_container() {
    int err = avformat_open_input(&fmt, path.c_str(), nullptr, nullptr);
    if (err < 0) {
      fmt = nullptr;
      fail(fmt::format("not a readable video file ({})", av_error_string(err)));
    }
    err = avformat_find_stream_info(fmt, nullptr);
    if (err < 0) fail(fmt::format("cannot read the stream information ({})", av_error_string(err)));
  }

  void open(const std::string& p, const VideoReaderOptions& o) {
    path = p;
    options = o;
    route_ffmpeg_logs();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail("no such file");
    if (!S_ISREG(st.st_mode)) fail("not a regular file");
    if (st.st_size == 0) fail("zero-length file");
    open_container();

    // The first real video stream (cover-art pictures are video streams too: skip them).
    for (unsigned s = 0; s < fmt->nb_streams; ++s) {
      const AVStream* st_ = fmt->streams[s];
      if (st_->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
          !(st_->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        stream = static_cast<int>(s);
        break;
      }
    }
    if (stream < 0) fail("has no video stream");
    AVStream* vs = fmt->streams[stream];
    time_base = vs->time_base;
    info.codec = avcodec_get_name(vs->codecpar->codec_id);
    codec = avcodec_find_decoder(vs->codecpar->codec_id);
    if (!codec)
      fail(fmt::format("unsupported codec '{}' (FFmpeg has no decoder for it)", info.codec));
    dec = avcodec_alloc_context3(codec);
    if (!dec) fail("cannot allocate a decoder");
    int err = avcodec_parameters_to_context(dec, vs->codecpar);
    if (err < 0) fail(fmt::format("bad codec parameters ({})", av_error_string(err)));
    dec->thread_count = std::max(0, options.threads);
    // Strict: checksums are verified; a packet the decoder rejects, or a frame it marks corrupt or
    // concealed, is an error (see decode_next). AV_EF_EXPLODE is not used: it also fails on the
    // missing references every decoder sees after a seek to an open-GOP keyframe.
    if (options.strict) dec->err_recognition |= AV_EF_CRCCHECK;
    err = avcodec_open2(dec, codec, nullptr);
    if (err < 0)
      fail(fmt::format("cannot open the '{}' decoder ({})", info.codec, av_error_string(err)));
    info.width = vs->codecpar->width;
    info.height = vs->codecpar->height;
    if (info.width <= 0 || info.height <= 0) fail("video stream has no frame size");
    info.header_frames = vs->nb_frames > 0 ? vs->nb_frames : 0;

    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (!pkt || !frame) fail("out of memory allocating packets");
    build_index();
  }

  // Demuxes every packet once (no decoding) and records the video frames' timestamps.
  void build_index() {
    struct Entry {
      int64_t ts, dur;
      bool key;
    };
    std::vector<Entry> entries;
    bool missing_ts = false;
    for (;;) {
      const int err = av_read_frame(fmt, pkt);
      if (err == AVERROR_EOF) break;
      if (err < 0) {
        // Strict: the file is broken. Otherwise keep the frames before the damage.
        if (!options.strict && !entries.empty()) break;
        fail(fmt::format("corrupt or truncated container after {} frames ({})", entries.size(),
                         av_error_string(err)));
      }
      if (pkt->stream_index == stream && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
        // Without presentation timestamps (AVI, raw streams) the frame order is only known by
        // decoding (B-frames reorder), so such streams are read sequentially.
        const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (pkt->pts == AV_NOPTS_VALUE) missing_ts = true;
        entries.push_back({ts, pkt->duration, (pkt->flags & AV_PKT_FLAG_KEY) != 0});
      }
      av_packet_unref(pkt);
    }
    if (entries.empty()) fail("the video stream has no frames");
    if (!missing_ts) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const Entry& a, const Entry& b) { return a.ts < b.ts; });
      for (size_t i = 1; i < entries.size(); ++i)
        if (entries[i].ts == entries[i - 1].ts) missing_ts = true;
    }
    sequential = missing_ts;
    for (const Entry& e : entries) {
      pts.push_back(e.ts);
      dur.push_back(e.dur);
      key.push_back(e.key ? 1 : 0);
    }
    info.num_frames = static_cast<int64_t>(entries.size());

    AVStream* vs = fmt->streams[stream];
    AVRational rate = vs->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = vs->r_frame_rate;
    const double tb = av_q2d(time_base);
    double span = 0;
    if (!sequential) {
      const int64_t last_dur = dur.back() > 0 ? dur.back() : 0;
      span = static_cast<double>(pts.back() - pts.front() + last_dur) * tb;
    }
    if (rate.num > 0 && rate.den > 0) {
      info.fps = av_q2d(rate);
    } else if (span > 0) {
      info.fps = static_cast<double>(info.num_frames) / span;
    }
    if (!sequential && dur.back() <= 0 && info.fps > 0) span += 1.0 / info.fps;
    if (span <= 0 && info.fps > 0) span = static_cast<double>(info.num_frames) / info.fps;
    if (span <= 0 && fmt->duration > 0) span = static_cast<double>(fmt->duration) / AV_TIME_BASE;
    info.duration_s = span;
    pos = kNeedSeek;
  }

  double frame_time(int64_t i) const {
    ASN_CHECK(i >= 0 && i < info.num_frames, "{}: frame {} out of range [0, {})", path, i,
              info.num_frames);
    if (sequential || info.fps <= 0) return info.fps > 0 ? static_cast<double>(i) / info.fps : 0.0;
    return static_cast<double>(pts[static_cast<size_t>(i)] - pts.front()) * av_q2d(time_base);
  }

  // Index of the frame with timestamp ts, or -1.
  int64_t index_of(int64_t ts) const {
    auto it = std::lower_bound(pts.begin(), pts.end(), ts);
    if (it == pts.end() || *it != ts) return -1;
    return static_cast<int64_t>(it - pts.begin());
  }

  // The last keyframe at or before frame i (-1 when none).
  int64_t keyframe_before(int64_t i) const {
    for (int64_t j = i; j >= 0; --j)
      if (key[static_cast<size_t>(j)]) return j;
    return -1;
  }

  // Back to the first frame: seek to the first timestamp, or reopen the file (`hard`, when the
  // demuxer cannot seek, or when the stream has no usable timestamps).
  void restart(bool hard = false) {
    int err = -1;
    if (!sequential && !hard) err = av_seek_frame(fmt, stream, pts.front(), AVSEEK_FLAG_BACKWARD);
    if (err < 0) {
      avformat_close_input(&fmt);
      open_container();
    }
    avcodec_flush_buffers(dec);
    pos = -1;
    counter = 0;
    flushed = false;
    skipped.clear();
    drop_before = -1;
  }

  // Positions the demuxer so that decoding forward reaches frame `target`.
  void seek_for(int64_t target) {
    const int64_t kf = sequential ? -1 : keyframe_before(target);
    if (kf <= 0) {
      restart();
      return;
    }
    const int err = av_seek_frame(fmt, stream, pts[static_cast<size_t>(kf)], AVSEEK_FLAG_BACKWARD);
    if (err < 0) {
      restart();
      return;
    }
    avcodec_flush_buffers(dec);
    pos = -1;
    flushed = false;
    skipped.clear();
    drop_before = kf;
    seek_key_sent = false;
  }

  // Decodes the next frame into `frame`; returns its index, or -1 at the end of the stream.
  int64_t decode_next() {
    for (;;) {
      int err = avcodec_receive_frame(dec, frame);
      if (err >= 0) {
        if (options.strict &&
            ((frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags)) {
          const int64_t at =
              sequential ? counter
                         : index_of(frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->pkt_dts);
          av_frame_unref(frame);
          fail(fmt::format("decode error at frame {} (the decoder flagged the frame as corrupt)",
                           at >= 0 ? std::to_string(at) : "after " + std::to_string(pos)));
        }
        if (sequential) return counter++;
        // The packet's timestamp carried through the decoder, by the index's rule (pts, else dts);
        // not best_effort_timestamp, whose guessing changes when frames are skipped.
        const int64_t ts = frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->pkt_dts;
        const int64_t i = index_of(ts);
        if (i < 0) {
          av_frame_unref(frame);
          fail(
              fmt::format("decoded a frame with timestamp {} that is not in the frame index "
                          "(after frame {})",
                          ts, pos));
        }
        return i;
      }
      if (err == AVERROR_EOF) return -1;
      if (err != AVERROR(EAGAIN)) {
        fail(fmt::format("decode error after frame {} ({})", pos, av_error_string(err)));
      }
      if (flushed) return -1;
      err = av_read_frame(fmt, pkt);
      if (err == AVERROR_EOF) {
        avcodec_send_packet(dec, nullptr);  // drain the frames still inside the decoder
        flushed = true;
        continue;
      }
      if (err < 0) {
        fail(fmt::format("corrupt or truncated data after frame {} ({})", pos,
                         av_error_string(err)));
      }
      if (pkt->stream_index != stream) {
        av_packet_unref(pkt);
        continue;
      }
      const int64_t pkt_ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (!sequential && drop_before > 0) {
        const int64_t at = index_of(pkt_ts);
        if (seek_key_sent && at >= 0 && at < drop_before) {
          av_packet_unref(pkt);
          continue;
        }
        if (at == drop_before) seek_key_sent = true;
      }
      if (wanted && allow_skip && !sequential && options.threads == 1) {
        const int64_t at = index_of(pkt_ts);
        const bool skip = at >= 0 && !wanted->count(at);
        dec->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
        if (skip) skipped.insert(at);
      } else {
        dec->skip_frame = AVDISCARD_DEFAULT;
      }
      // The decoder's output was drained above (EAGAIN), so it accepts this packet; an error is
      // corrupt data. Non-strict readers drop the packet: a wanted frame that never comes out is
      // still an error in read().
      err = avcodec_send_packet(dec, pkt);
      av_packet_unref(pkt);
      if (err < 0) {
        const int64_t at = sequential ? -1 : index_of(pkt_ts);
        const std::string where = at >= 0 ? std::to_string(at) : "after " + std::to_string(pos);
        if (options.strict) {
          fail(fmt::format("decode error at frame {} ({})", where, av_error_string(err)));
        }
        ASN_LOG_DEBUG("{}: dropped undecodable data at frame {} ({})", path, where,
                      av_error_string(err));
      }
    }
  }

  // Converts the frame in `frame` to RGB24 at (info.height, info.width) into dst.
  void convert(uint8_t* dst) {
    const int flags = SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
    sws = sws_getCachedContext(sws, frame->width, frame->height,
                               static_cast<AVPixelFormat>(frame->format), info.width, info.height,
                               AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr);
    if (!sws)
      fail(fmt::format("cannot convert pixel format '{}' to RGB",
                       av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame->format))));
    // YUV matrix and range from the frame (BT.601 when unspecified); RGB output in full range.
    int cs = SWS_CS_DEFAULT;
    if (frame->colorspace == AVCOL_SPC_BT709) cs = SWS_CS_ITU709;
    if (frame->colorspace == AVCOL_SPC_BT2020_NCL || frame->colorspace == AVCOL_SPC_BT2020_CL)
      cs = SWS_CS_BT2020;
    const int src_full = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    int* inv_table = nullptr;
    int* table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(sws, &inv_table, &src_range, &table, &dst_range, &brightness,
                                 &contrast, &saturation) >= 0) {
      sws_setColorspaceDetails(sws, sws_getCoefficients(cs), src_full || src_range,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, brightness, contrast,
                               saturation);
    }
    uint8_t* dst_planes[4] = {dst, nullptr, nullptr, nullptr};
    int dst_lines[4] = {info.width * 3, 0, 0, 0};
    sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst_planes, dst_lines);
  }

  Tensor read(const std::vector<int64_t>& indices) {
    const int64_t n = static_cast<int64_t>(indices.size());
    ASN_CHECK(n >= 1, "{}: read_frames needs at least one frame index", path);
    for (int64_t i : indices) {
      ASN_CHECK(i >= 0 && i < info.num_frames, "{}: frame index {} out of range [0, {})", path, i,
                info.num_frames);
    }
    // Wanted frames in ascending order, each with the output slots it fills.
    std::map<int64_t, std::vector<int64_t>> slots;
    for (int64_t k = 0; k < n; ++k) slots[indices[static_cast<size_t>(k)]].push_back(k);
    wanted = &slots;
    allow_skip = true;

    Tensor out = Tensor::empty(Shape{n, info.height, info.width, 3}, DType::u8);
    uint8_t* base = out.data<uint8_t>();
    const size_t frame_bytes = static_cast<size_t>(info.height) * info.width * 3;
    try {
      for (const auto& [target, where] : slots) {
        bool seeked = false, restarted = false, retried = false;
        // Seek when going backward, when not positioned, when the target's packet was already
        // skipped, or when a keyframe after the current position lets us skip frames.
        if (pos == kNeedSeek || pos >= target || skipped.count(target) ||
            (!sequential && keyframe_before(target) > pos + 1)) {
          seek_for(target);
          seeked = true;
        }
        for (;;) {
          const int64_t i = decode_next();
          if (i >= 0 && i <= target) {
            pos = std::max(pos, i);
            if (i == target) break;
            av_frame_unref(frame);
            continue;
          }
          // The target did not come out: the stream ended (i < 0) or a later frame came first.
          if (i >= 0) av_frame_unref(frame);
          if (seeked && pos == -1 && !restarted) {
            // Nothing came out since the seek: it landed after the target or after the last
            // keyframe we need (inexact demuxer index). Start over from the first frame.
            restart(/*hard=*/true);
            restarted = true;
            continue;
          }
          if (!skipped.empty() && !retried) {
            // Skipping unreferenced frames confused the decoder's output order (seen with H.264
            // at the end of a stream): read this frame again without skipping.
            allow_skip = false;
            seek_for(target);
            seeked = true;
            restarted = false;
            retried = true;
            continue;
          }
          if (i < 0) {
            fail(fmt::format("frame {} could not be decoded (the stream ended after frame {})",
                             target, pos));
          }
          fail(
              fmt::format("frame {} could not be decoded (the decoder went from frame {} to "
                          "frame {})",
                          target, pos, i));
        }
        {
          uint8_t* first = base + static_cast<size_t>(where[0]) * frame_bytes;
          convert(first);
          av_frame_unref(frame);
          for (size_t w = 1; w < where.size(); ++w)
            std::memcpy(base + static_cast<size_t>(where[w]) * frame_bytes, first, frame_bytes);
        }
      }
    } catch (...) {
      pos = kNeedSeek;  // the decoder state is unknown after a failure
      wanted = nullptr;
      dec->skip_frame = AVDISCARD_DEFAULT;
      throw;
    }
    wanted = nullptr;
    dec->skip_frame = AVDISCARD_DEFAULT;
    return out;
  }
};

VideoReader::VideoReader(const std::string& path, const VideoReaderOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->open(path, options);
}
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

const std::string& VideoReader::path() const { return impl_->path; }
const VideoInfo& VideoReader::info() const { return impl_->info; }
double VideoReader::frame_time(int64_t i) const { return impl_->frame_time(i); }

Tensor VideoReader::read_frames(const std::vector<int64_t>& indices) {
  return impl_->read(indices);
}

Tensor VideoReader::read_clip(int64_t start, int64_t num_frames, int64_t stride,
                              OutOfRange policy) {
  return impl_->read(
      clip_frame_indices(start, num_frames, stride, impl_->info.num_frames, policy, impl_->path));
}

Tensor VideoReader::read_all() {
  std::vector<int64_t> idx(static_cast<size_t>(impl_->info.num_frames));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  return impl_->read(idx);
}

}  // namespace asn::video
