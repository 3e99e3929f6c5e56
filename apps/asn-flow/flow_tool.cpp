// asn-flow: clip loading, the flow computation and the three outputs (see flow_tool.h).
#include "apps/asn-flow/flow_tool.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <ostream>
#include <vector>

#include "autograd/functions/rep_flow.h"
#include "autograd/tape.h"
#include "engine/data/transforms.h"
#include "engine/device.h"
#include "engine/io/safetensors.h"
#include "engine/video/flow_color.h"
#include "engine/video/video_reader.h"
#include "engine/video/video_writer.h"

namespace asn::flowtool {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Frames of a clip of `available` frames: `frames` of them (0: as many as fit) from `start`.
int64_t clip_length(const FlowToolOptions& opt, int64_t available, const std::string& source) {
  ASN_CHECK(opt.start < available, "{}: --start {} is past the last frame (it has {} frames)",
            source, opt.start, available);
  return opt.frames > 0 ? opt.frames : (available - 1 - opt.start) / opt.stride + 1;
}

// u8 (..., 3) -> f32 in [0, 1] as v * (1/255), the data pipeline's "unit" normalisation.
Tensor unit_from_u8(const Tensor& u8) {
  Tensor out = Tensor::empty(u8.shape(), DType::f32);
  const uint8_t* s = u8.data<uint8_t>();
  float* d = out.data<float>();
  const float scale = 1.0f / 255.0f;
  for (int64_t i = 0; i < u8.numel(); ++i) d[i] = static_cast<float>(s[i]) * scale;
  return out;
}

// (N, T, ...) -> (N, len(idx), ...): frames idx of every clip.
Tensor select_frames(const Tensor& x, const std::vector<int64_t>& idx) {
  const int64_t N = x.dim(0), T = x.dim(1), frame = x.numel() / (N * T);
  std::vector<int64_t> dims = x.shape().vec();
  dims[1] = static_cast<int64_t>(idx.size());
  Tensor out = Tensor::empty(Shape(dims), x.dtype());
  const size_t bytes = static_cast<size_t>(frame) * dtype_size(x.dtype());
  const char* s = static_cast<const char*>(x.raw_data());
  char* d = static_cast<char*>(out.raw_data());
  for (int64_t n = 0; n < N; ++n)
    for (size_t t = 0; t < idx.size(); ++t)
      std::copy_n(s + (n * T + idx[t]) * bytes, bytes,
                  d + (n * dims[1] + static_cast<int64_t>(t)) * bytes);
  return out;
}

Clip load_tensor_clip(const FlowToolOptions& opt) {
  const io::SafetensorsFile f = io::load_safetensors(opt.input);
  ASN_CHECK_AS(IoError, f.contains("rgb"),
               "{}: no tensor named 'rgb' (asn-flow needs 'rgb' of shape (N, T, H, W, 3) or "
               "(T, H, W, 3), u8 or floats in [0, 1])",
               opt.input);
  Tensor rgb = f.get("rgb");
  ASN_CHECK_SHAPE((rgb.rank() == 4 || rgb.rank() == 5) && rgb.dim(rgb.rank() - 1) == 3,
                  "{}: 'rgb' must be (N, T, H, W, 3) or (T, H, W, 3), got {}", opt.input,
                  describe(rgb));
  ASN_CHECK_TYPE(rgb.dtype() == DType::u8 || rgb.dtype() == DType::f32 || rgb.dtype() == DType::f64,
                 "{}: 'rgb' must be u8, f32 or f64, got {}", opt.input, describe(rgb));
  if (rgb.rank() == 4) rgb = rgb.reshape(Shape{1, rgb.dim(0), rgb.dim(1), rgb.dim(2), 3});
  ASN_CHECK_SHAPE(rgb.numel() > 0, "{}: 'rgb' is empty: {}", opt.input, describe(rgb));
  const int64_t T = clip_length(opt, rgb.dim(1), opt.input);
  rgb = select_frames(rgb, video::clip_frame_indices(opt.start, T, opt.stride, rgb.dim(1),
                                                     video::OutOfRange::kError, opt.input));
  if (rgb.dtype() == DType::u8) {
    rgb = unit_from_u8(rgb);
  } else {
    rgb = rgb.to(DType::f32);
    const float* p = rgb.data<float>();
    const auto [lo, hi] = std::minmax_element(p, p + rgb.numel());
    bool finite = true;
    for (int64_t i = 0; i < rgb.numel() && finite; ++i) finite = std::isfinite(p[i]);
    ASN_CHECK(finite && *lo >= 0.0f && *hi <= 1.0f,
              "{}: 'rgb' values must be finite and in [0, 1] (or the tensor u8), found [{}, {}]{}",
              opt.input, *lo, *hi, finite ? "" : " and non-finite values");
  }
  Clip c;
  c.rgb = rgb;
  c.what = fmt::format("{}: 'rgb' {}, frames {}..{} step {}", opt.input, describe(f.get("rgb")),
                       opt.start, opt.start + (T - 1) * opt.stride, opt.stride);
  return c;
}

Clip load_video_clip(const FlowToolOptions& opt) {
  video::VideoReader reader(opt.input);
  const video::VideoInfo& info = reader.info();
  const int64_t T = clip_length(opt, info.num_frames, opt.input);
  const Tensor frames = reader.read_clip(opt.start, T, opt.stride, video::OutOfRange::kError);
  Clip c;
  c.rgb = unit_from_u8(frames).reshape(Shape{1, T, info.height, info.width, 3});
  c.fps = info.fps / static_cast<double>(opt.stride);
  c.what = fmt::format("{}: {} video, {}x{}, {} frames at {:.3g} fps; frames {}..{} step {}",
                       opt.input, info.codec, info.width, info.height, info.num_frames, info.fps,
                       opt.start, opt.start + (T - 1) * opt.stride, opt.stride);
  return c;
}

Device pick_device(const std::string& name) {
  if (name == "auto") return default_device();
  const Device d = Device::parse(name);
  if (d.is_cuda()) {
    ASN_CHECK_AS(DeviceError, d.index < cuda_device_count(),
                 "--device {}: no such CUDA device ({} found{})", name, cuda_device_count(),
                 compiled_with_cuda() ? "" : "; this build has no CUDA support");
  }
  return d;
}

// "flow.mp4" -> "flow_clip3.mp4".
std::string clip_file_name(const std::string& path, int64_t n) {
  const std::filesystem::path p(path);
  return (p.parent_path() /
          fmt::format("{}_clip{}{}", p.stem().string(), n, p.extension().string()))
      .string();
}

void dump_stats(const Clip& clip, const Tensor& flow, int iterations, const std::string& device,
                std::ostream& out) {
  out << fmt::format("input  {}\n", clip.what);
  out << fmt::format(
      "rgb    {} in [0, 1]\nflow   {} (u1 along W, u2 along H), {} iterations on {}\n",
      describe(clip.rgb), describe(flow), iterations, device);
  out << fmt::format("{:>4} {:>5} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "clip",
                     "frame", "u1 min", "u1 max", "u2 min", "u2 max", "|u| min", "|u| mean",
                     "|u| max");
  const int64_t N = flow.dim(0), T = flow.dim(1), P = flow.dim(2) * flow.dim(3);
  const float* f = flow.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) {
      const float* p = f + (n * T + t) * P * 2;
      double u1lo = INFINITY, u1hi = -INFINITY, u2lo = INFINITY, u2hi = -INFINITY;
      double mlo = INFINITY, mhi = -INFINITY, msum = 0;
      for (int64_t i = 0; i < P; ++i) {
        const double u1 = p[2 * i], u2 = p[2 * i + 1], m = std::sqrt(u1 * u1 + u2 * u2);
        u1lo = std::min(u1lo, u1), u1hi = std::max(u1hi, u1);
        u2lo = std::min(u2lo, u2), u2hi = std::max(u2hi, u2);
        mlo = std::min(mlo, m), mhi = std::max(mhi, m), msum += m;
      }
      out << fmt::format(
          "{:>4} {:>5} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} "
          "{:>10.4g}\n",
          n, t, u1lo, u1hi, u2lo, u2hi, mlo, msum / static_cast<double>(P), mhi);
    }
}

}  // namespace

std::pair<int, int> parse_size(const std::string& s) {
  const size_t x = s.find('x');
  auto number = [&](const std::string& part) {
    ASN_CHECK(
        !part.empty() && part.size() <= 5 &&
            std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }),
        "--size: expected HxW with positive whole numbers (e.g. 112x112), got '{}'", s);
    const int v = std::stoi(part);
    ASN_CHECK(v >= 1, "--size: expected HxW with positive whole numbers (e.g. 112x112), got '{}'",
              s);
    return v;
  };
  ASN_CHECK(x != std::string::npos,
            "--size: expected HxW with positive whole numbers (e.g. 112x112), got '{}'", s);
  return {number(s.substr(0, x)), number(s.substr(x + 1))};
}

Tensor resize_bilinear(const Tensor& frames, int out_h, int out_w) {
  ASN_CHECK_TYPE(frames.dtype() == DType::f32 && frames.device().is_cpu() && frames.rank() == 4,
                 "resize_bilinear: needs f32 (T, H, W, C) on the CPU, got {}", describe(frames));
  ASN_CHECK(out_h >= 1 && out_w >= 1, "resize_bilinear: bad output size {}x{}", out_h, out_w);
  const int64_t T = frames.dim(0), H = frames.dim(1), W = frames.dim(2), C = frames.dim(3);
  struct Tap {
    int64_t i0, i1;
    float a;
  };
  // Output o samples source coordinate (o + 0.5) * src / out - 0.5, clamped to [0, src - 1].
  auto taps = [](int out, int64_t src) {
    std::vector<Tap> t(static_cast<size_t>(out));
    for (int o = 0; o < out; ++o) {
      double s = (o + 0.5) * static_cast<double>(src) / out - 0.5;
      s = std::min(std::max(s, 0.0), static_cast<double>(src - 1));
      const int64_t i0 = static_cast<int64_t>(std::floor(s));
      t[static_cast<size_t>(o)] = Tap{i0, std::min(i0 + 1, src - 1), static_cast<float>(s - i0)};
    }
    return t;
  };
  const std::vector<Tap> ty = taps(out_h, H), tx = taps(out_w, W);
  Tensor out = Tensor::empty(Shape{T, out_h, out_w, C}, DType::f32);
  const float* src = frames.data<float>();
  float* dst = out.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int oy = 0; oy < out_h; ++oy) {
      const Tap& y = ty[static_cast<size_t>(oy)];
      const float* r0 = src + ((t * H + y.i0) * W) * C;
      const float* r1 = src + ((t * H + y.i1) * W) * C;
      float* o = dst + ((t * out_h + oy) * out_w) * C;
      for (int ox = 0; ox < out_w; ++ox) {
        const Tap& x = tx[static_cast<size_t>(ox)];
        for (int64_t c = 0; c < C; ++c) {
          const float top = (1 - x.a) * r0[x.i0 * C + c] + x.a * r0[x.i1 * C + c];
          const float bottom = (1 - x.a) * r1[x.i0 * C + c] + x.a * r1[x.i1 * C + c];
          o[ox * C + c] = (1 - y.a) * top + y.a * bottom;
        }
      }
    }
  return out;
}

Clip load_clip(const FlowToolOptions& opt) {
  ASN_CHECK(opt.stride >= 1 && opt.start >= 0 && opt.frames >= 0,
            "--stride must be >= 1, --start >= 0 and --frames >= 0 (got {}, {}, {})", opt.stride,
            opt.start, opt.frames);
  std::pair<int, int> size{0, 0};
  if (!opt.size.empty()) size = parse_size(opt.size);  // checked before the (slower) decoding
  Clip c = ends_with(opt.input, ".safetensors") ? load_tensor_clip(opt) : load_video_clip(opt);
  if (size.first > 0 && (size.first != c.rgb.dim(2) || size.second != c.rgb.dim(3))) {
    const int64_t N = c.rgb.dim(0), T = c.rgb.dim(1);
    const Tensor frames = c.rgb.reshape(Shape{N * T, c.rgb.dim(2), c.rgb.dim(3), 3});
    c.rgb = resize_bilinear(frames, size.first, size.second)
                .reshape(Shape{N, T, size.first, size.second, 3});
    c.what += fmt::format(", resized to {}x{}", size.first, size.second);
  }
  return c;
}

Tensor compute_flow(const Tensor& rgb, int iterations, const std::string& device_name,
                    std::string* device_used) {
  ASN_CHECK(iterations >= 1, "--iterations must be >= 1, got {}", iterations);
  const Device device = pick_device(device_name);
  if (device_used) *device_used = device.str();
  ag::NoGradGuard no_grad;
  const ag::RepFlowParams params = ag::rep_flow_params({}, DType::f32, device);
  ag::RepFlowOptions o;
  o.iterations = iterations;
  const ag::Variable x(rgb.to(device));
  return ag::rep_flow(x, params, o).value().to(Device::cpu());
}

Tensor color_frames(const Tensor& rgb, const Tensor& flow, int64_t n, double max_flow,
                    bool side_by_side) {
  const int64_t T = flow.dim(1), H = flow.dim(2), W = flow.dim(3);
  const Tensor clip_flow = flow.narrow0(n, 1).reshape(Shape{T, H, W, 2});
  const Tensor colors = video::flow_to_color(clip_flow, max_flow);
  if (!side_by_side) return colors;
  Tensor out = Tensor::empty(Shape{T, H, 2 * W, 3}, DType::u8);
  const float* in = rgb.narrow0(n, 1).data<float>();
  const uint8_t* col = colors.data<uint8_t>();
  uint8_t* o = out.data<uint8_t>();
  for (int64_t r = 0; r < T * H; ++r) {  // one image row of one frame
    uint8_t* left = o + r * 2 * W * 3;
    for (int64_t i = 0; i < W * 3; ++i) {
      const float v = std::round(std::min(std::max(in[r * W * 3 + i], 0.0f), 1.0f) * 255.0f);
      left[i] = static_cast<uint8_t>(v);
    }
    std::copy_n(col + r * W * 3, W * 3, left + W * 3);
  }
  return out;
}

int run(const FlowToolOptions& opt, std::ostream& out) {
  ASN_CHECK(!opt.output.empty() || !opt.png_dir.empty() || !opt.video.empty() || opt.dump,
            "nothing to do: give -o/--output, --png, --video or --dump");
  ASN_CHECK(std::isfinite(opt.max_flow) && opt.max_flow >= 0,
            "--max-flow must be >= 0 (0: the clip's largest magnitude), got {}", opt.max_flow);
  ASN_CHECK(std::isfinite(opt.fps) && opt.fps >= 0, "--fps must be >= 0, got {}", opt.fps);
  const Clip clip = load_clip(opt);
  std::string device;
  const Tensor flow = compute_flow(clip.rgb, opt.iterations, opt.device, &device);
  if (opt.dump) dump_stats(clip, flow, opt.iterations, device, out);

  if (!opt.output.empty()) {
    std::vector<std::pair<std::string, Tensor>> ts{{"flow", flow}};
    if (opt.save_input) ts.emplace_back("rgb", clip.rgb);
    io::save_safetensors(opt.output, ts,
                         {{"source", clip.what},
                          {"iterations", std::to_string(opt.iterations)},
                          {"layout", "flow (N, T, H, W, 2): u1 along W, u2 along H, in pixels"}});
    out << fmt::format("wrote {} (flow {}{})\n", opt.output, flow.shape().str(),
                       opt.save_input ? ", rgb " + clip.rgb.shape().str() : "");
  }
  if (opt.png_dir.empty() && opt.video.empty()) return 0;

  const int64_t N = flow.dim(0);
  for (int64_t n = 0; n < N; ++n) {
    const double norm =
        opt.max_flow > 0 ? opt.max_flow : video::max_flow_magnitude(flow.narrow0(n, 1));
    const Tensor frames = color_frames(clip.rgb, flow, n, norm, opt.side_by_side);
    const std::string tag = N > 1 ? fmt::format("clip {}: ", n) : "";
    out << fmt::format(
        "{}colour scale: full saturation at {:.4g} px{}\n", tag, norm,
        opt.max_flow > 0 ? " (--max-flow)" : " (largest flow magnitude of the clip)");
    if (!opt.png_dir.empty()) {
      const std::string prefix = N > 1 ? fmt::format("clip{}_flow_", n) : "flow_";
      const auto paths = video::write_png_sequence(frames, opt.png_dir, prefix);
      out << fmt::format("{}wrote {} PNG files {}/{}NNNNN.png ({}x{})\n", tag, paths.size(),
                         opt.png_dir, prefix, frames.dim(2), frames.dim(1));
    }
    if (!opt.video.empty()) {
      video::VideoWriterOptions vo;
      vo.fps = opt.fps > 0 ? opt.fps : (clip.fps > 0 ? clip.fps : 10.0);
      vo.encoder = opt.encoder;
      const std::string path = N > 1 ? clip_file_name(opt.video, n) : opt.video;
      const video::VideoWriteInfo vi = video::write_video(frames, path, vo);
      out << fmt::format(
          "{}wrote {} ({} frames, {}x{}, {:.4g} fps; encoder {}, codec {}, {}, "
          "container {})\n",
          tag, path, vi.frames, vi.width, vi.height, vi.fps, vi.encoder, vi.codec, vi.pixel_format,
          vi.container);
      for (const std::string& s : vi.skipped) out << fmt::format("{}  passed over {}\n", tag, s);
    }
  }
  return 0;
}

}  // namespace asn::flowtool
