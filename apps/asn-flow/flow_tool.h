// asn-flow's work, separate from its argument parsing: read a clip from a video or a safetensors
// file, run the representation-flow layer core (ag::rep_flow, the network's flow stem with its
// default parameters) on it, and write the flow as a tensor file, colour-coded PNGs and a
// colour-coded video, or print per-frame statistics.
//
// The clip becomes f32 (N, T, H, W, 3) in [0, 1]: decoded u8 frames and u8 tensors as v * (1/255)
// (the data pipeline's "unit" normalisation), f32/f64 tensors as they are (they must lie in
// [0, 1]). --size resizes bilinearly with the data pipeline's geometry (half-pixel centres, clamped
// borders; see engine/data/transforms.h). The flow is (N, T, H, W, 2) f32, channel 0 = u1 along W
// (positive: to the right), channel 1 = u2 along H (positive: down). As in the network, the layer's
// min/max normalisation spans the whole batch, so with N > 1 each clip's flow depends on the
// others.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>

#include "engine/tensor.h"

namespace asn::flowtool {

struct FlowToolOptions {
  std::string input;            // video file, or a .safetensors file with "rgb"
  int64_t frames = 0;           // T; 0: every frame from `start` at `stride`
  int64_t stride = 1;           // frames between clip frames
  int64_t start = 0;            // first frame
  std::string size;             // "HxW" to resize; empty: keep the input's size
  int iterations = 40;          // TV-L1 iterations (AssembleNet: 40, AssembleNet++Lite: 20)
  std::string device = "auto";  // auto (CUDA when available), cpu, cuda[:N]
  std::string output;           // safetensors file to write ("flow", and "rgb" with save_input)
  bool save_input = false;
  std::string png_dir;        // folder for colour-coded PNGs
  std::string video;          // colour-coded video file (.mp4, .mkv, ...)
  std::string encoder;        // video encoder name; empty: automatic (H.264 first)
  double fps = 0;             // video frame rate; 0: the source's fps / stride (tensors: 10)
  double max_flow = 0;        // colour normaliser in pixels; 0: each clip's largest magnitude
  bool side_by_side = false;  // input frame left of the flow colours in the PNGs and the video
  bool dump = false;          // print shapes and per-frame statistics
};

// The clip as the layer sees it.
struct Clip {
  Tensor rgb;        // f32 (N, T, H, W, 3) in [0, 1], CPU
  double fps = 0;    // frames per second of the clip (source fps / stride; 0 for tensor files)
  std::string what;  // one line describing where it came from
};

// "HxW" -> (H, W). Throws ValueError naming --size.
std::pair<int, int> parse_size(const std::string& s);

// Bilinear resize of f32 (T, H, W, C) to (T, out_h, out_w, C), the data pipeline's geometry.
Tensor resize_bilinear(const Tensor& frames, int out_h, int out_w);

// Reads and prepares the clip (frame selection, conversion, resize).
Clip load_clip(const FlowToolOptions& opt);

// ag::rep_flow with default parameters and `iterations` on `device`: (N, T, H, W, 2) f32 CPU.
Tensor compute_flow(const Tensor& rgb, int iterations, const std::string& device_name,
                    std::string* device_used = nullptr);

// Colour frames of clip n: u8 (T, H, W, 3), or (T, H, 2W, 3) with the input frame on the left.
Tensor color_frames(const Tensor& rgb, const Tensor& flow, int64_t n, double max_flow,
                    bool side_by_side);

// Runs everything `opt` asks for, printing a report to `out`. Returns the exit code (0).
int run(const FlowToolOptions& opt, std::ostream& out);

}  // namespace asn::flowtool
