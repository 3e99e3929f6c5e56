// asn-flow: compute the representation-flow layer's flow for a video or a tensor file and write it
// as a tensor file, colour-coded PNGs and a colour-coded video (docs/rep-flow.md, "Looking at the
// flow: asn-flow"). Argument parsing only; the work is in flow_tool.h.
//
//   asn-flow INPUT [--frames T] [--stride k] [--start s] [--size HxW] [--iterations 40]
//            [--device auto|cpu|cuda] [-o flow.safetensors [--save-input]] [--png DIR]
//            [--video flow.mp4 [--codec NAME] [--fps F]] [--max-flow M] [--side-by-side] [--dump]
#include <CLI/CLI.hpp>
#include <iostream>

#include "apps/asn-flow/flow_tool.h"
#include "engine/log.h"
#include "engine/parallel.h"

using namespace asn;

int main(int argc, char** argv) {
  CLI::App app{
      "asn-flow: the representation-flow layer's flow of a clip, as a tensor file, "
      "colour-coded PNGs and video (hue = direction, saturation = magnitude)"};
  flowtool::FlowToolOptions o;
  int threads = 0;
  app.add_option("input", o.input,
                 "video file, or .safetensors with 'rgb' (N, T, H, W, 3) / (T, H, W, 3), u8 or "
                 "floats in [0, 1]")
      ->required();
  app.add_option("--frames", o.frames, "clip length T (0: every frame from --start at --stride)")
      ->capture_default_str();
  app.add_option("--stride", o.stride, "frames between clip frames")->capture_default_str();
  app.add_option("--start", o.start, "first frame")->capture_default_str();
  app.add_option("--size", o.size, "resize frames to HxW (bilinear) before the flow");
  app.add_option("--iterations", o.iterations,
                 "TV-L1 iterations (AssembleNet, AssembleNet++: 40; AssembleNet++Lite: 20)")
      ->capture_default_str();
  app.add_option("--device", o.device, "auto (CUDA when available), cpu or cuda[:N]")
      ->capture_default_str();
  app.add_option("-o,--output", o.output, "safetensors file to write: 'flow' (N, T, H, W, 2) f32");
  app.add_flag("--save-input", o.save_input, "also store the clip as the layer saw it ('rgb')");
  app.add_option("--png", o.png_dir, "folder for colour-coded PNG frames (flow_00000.png, ...)");
  app.add_option("--video", o.video, "colour-coded video file (.mp4: H.264 when available)");
  app.add_option("--codec", o.encoder,
                 "FFmpeg video encoder to use (default: the first that works "
                 "of libx264, libopenh264, mpeg4, libvpx-vp9, mjpeg, ffv1)");
  app.add_option("--fps", o.fps, "video frame rate (0: the source's fps / stride; 10 for tensors)")
      ->capture_default_str();
  app.add_option("--max-flow", o.max_flow,
                 "flow magnitude in pixels shown fully saturated (0: each clip's largest)")
      ->capture_default_str();
  app.add_flag("--side-by-side", o.side_by_side, "input frame left of the flow in PNGs and video");
  app.add_flag("--dump", o.dump, "print shapes and per-frame flow statistics");
  app.add_option("--threads", threads, "CPU threads (default: all)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    set_log_level("warn");
    if (threads > 0) set_num_threads(threads);
    return flowtool::run(o, std::cout);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
