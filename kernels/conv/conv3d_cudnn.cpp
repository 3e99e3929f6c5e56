// conv3d on CUDA (see conv3d.h for the contract): pointwise convolutions through the cuBLASLt
// dense kernels, f64 through the direct kernels, everything else through cuDNN.
//
// Plans. Each problem (device, direction, dtype, shapes, pads, strides, dilations, the
// deterministic and TF32 switches, the forced path) gets one plan, chosen on its first call and
// cached: a cuDNN runner (conv3d_cudnn_plan.h) in one layout, or the direct kernels. A call then
// only looks the plan up, stages what its layout needs, and runs it: no descriptor creation, no
// output-dimension check, no workspace query per call. Candidates, in this order:
//   graph channels-last    the backend API on our (N, T, H, W, C) memory, up to
//                          kGraphCandidates engine configurations
//   legacy channels-last   cudnnFind*Ex's pick
//   graph channels-first   the same on packed (N, C, T, H, W) copies (staging copies timed in)
//   legacy channels-first
// Not deterministic: every candidate is timed on the real operands (one warm-up, then the best of
// kTimedRuns, staging copies included) and the fastest kept, as PyTorch's cudnn.benchmark does.
// Deterministic: the first legacy candidate that runs (the first deterministic heuristic result,
// channels-last before channels-first: the same choice in every process), no timing.
// When no candidate runs, the direct kernels of conv3d_direct.h compute it (slowly; warned once).
// set_conv3d_cuda_path / ASN_CONV_PATH restrict the candidates to one path (tests, diagnosis).
//
// Staging (conv3d_staging.h), only where needed: the explicitly padded input (cuDNN pads
// symmetrically; TF SAME's extra pad after and explicit asymmetric pads are written into a copy,
// the input gradient cropped back); every operand on a channels-first plan; and any operand whose
// address is not 16-byte aligned (weights are views into the flat parameter buffer at any offset),
// so cuDNN always sees aligned pointers and a cached plan stays valid for every call.
//
// Workspace: one buffer per device, grown to the largest any plan run so far (timed candidates
// included) or Find asks for, at most asn::cuda::workspace_limit(); every call on the device's
// stream reuses it (instead of a workspace block of a new size per call from the caching
// allocator, which never splits blocks).
//
// Logging: the chosen plan of each problem, the candidates' times and why the others were not
// available go to ASN_LOG_DEBUG, and to stderr when ASN_CONV_LOG=1 (read once).
#ifdef ASN_WITH_CUDA

#include <cudnn.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/cuda/handles.h"
#include "engine/runtime_flags.h"
#include "engine/tensor.h"
#include "kernels/conv/conv3d.h"
#include "kernels/conv/conv3d_cudnn_plan.h"
#include "kernels/conv/conv3d_direct.h"
#include "kernels/conv/conv3d_staging.h"
#include "kernels/dense/dense.h"

namespace asn::kernels {

namespace conv_cuda {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::forward:
      return "forward";
    case Direction::backward_data:
      return "backward data";
    case Direction::backward_weight:
      return "backward weight";
  }
  return "?";
}

const char* layout_name(Layout l) {
  return l == Layout::channels_last ? "channels-last" : "channels-first";
}

bool not_supported(cudnnStatus_t st) {
  return CUDNN_STATUS_CATEGORY(st) == CUDNN_STATUS_NOT_SUPPORTED;
}

bool Geometry::padded() const {
  for (int a = 0; a < 3; ++a)
    if (extra_before[a] != 0 || extra_after[a] != 0) return true;
  return false;
}

bool Geometry::pointwise(const Conv3dParams& p) const {
  for (int a = 0; a < 3; ++a) {
    if (k[a] != 1 || stride[a] != 1 || p.pad[a].before != 0 || p.pad[a].after != 0) return false;
  }
  return true;
}

Geometry make_geometry(const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p) {
  const Shape y_shape = p.output_shape(x_shape, w_shape);
  Geometry g;
  g.N = x_shape[0];
  g.Cin = x_shape[4];
  g.Cout = w_shape[0];
  for (int a = 0; a < 3; ++a) {
    g.in[a] = x_shape[1 + a];
    g.k[a] = w_shape[1 + a];
    g.out[a] = y_shape[1 + a];
    g.stride[a] = p.stride[a];
    g.dilation[a] = p.dilation[a];
    const int64_t extent = effective_kernel(g.k[a], g.dilation[a]);
    g.sym[a] = std::min({p.pad[a].before, p.pad[a].after, extent - 1});
    g.extra_before[a] = p.pad[a].before - g.sym[a];
    g.extra_after[a] = p.pad[a].after - g.sym[a];
    g.staged[a] = g.in[a] + g.extra_before[a] + g.extra_after[a];
  }
  return g;
}

}  // namespace conv_cuda

namespace {

using conv_cuda::CudnnRunner;
using conv_cuda::Direction;
using conv_cuda::direction_name;
using conv_cuda::Geometry;
using conv_cuda::Layout;
using conv_cuda::layout_name;
using conv_cuda::Operands;
using conv_cuda::ProblemSpec;
using conv_cuda::volume;

constexpr size_t kAlignment = 16;  // bytes every operand handed to cuDNN is aligned to
// Tuning cost per new problem and direction: (2 * kGraphCandidates + 2) candidates run
// 1 + kTimedRuns times each, plus cudnnFind in two layouts (tens of ms for AssembleNet sizes; a
// network with ~100 conv problems tunes for seconds on its first step).
constexpr int kGraphCandidates = 6;  // engine configurations timed per graph layout
constexpr int kTimedRuns = 2;        // timed runs per candidate (after one warm-up)

// ---- switches ----

Conv3dCudaPath path_from_env() {
  const char* v = std::getenv("ASN_CONV_PATH");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "auto") == 0) return Conv3dCudaPath::automatic;
  if (std::strcmp(v, "graph") == 0) return Conv3dCudaPath::graph_channels_last;
  if (std::strcmp(v, "graph_cf") == 0) return Conv3dCudaPath::graph_channels_first;
  if (std::strcmp(v, "legacy") == 0) return Conv3dCudaPath::legacy_channels_last;
  if (std::strcmp(v, "legacy_cf") == 0) return Conv3dCudaPath::legacy_channels_first;
  if (std::strcmp(v, "direct") == 0) return Conv3dCudaPath::direct;
  ASN_LOG_WARN(
      "conv3d: ignoring ASN_CONV_PATH='{}' (auto, graph, graph_cf, legacy, legacy_cf, "
      "direct)",
      v);
  return Conv3dCudaPath::automatic;
}

std::mutex g_path_mutex;
Conv3dCudaPath& path_setting() {
  static Conv3dCudaPath path = path_from_env();
  return path;
}

bool log_to_stderr() {
  static const bool on = [] {
    const char* v = std::getenv("ASN_CONV_LOG");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

const char* path_name(Conv3dCudaPath p) {
  switch (p) {
    case Conv3dCudaPath::automatic:
      return "auto";
    case Conv3dCudaPath::graph_channels_last:
      return "graph channels-last";
    case Conv3dCudaPath::graph_channels_first:
      return "graph channels-first";
    case Conv3dCudaPath::legacy_channels_last:
      return "legacy channels-last";
    case Conv3dCudaPath::legacy_channels_first:
      return "legacy channels-first";
    case Conv3dCudaPath::direct:
      return "direct";
  }
  return "?";
}

bool is_graph(Conv3dCudaPath p) {
  return p == Conv3dCudaPath::graph_channels_last || p == Conv3dCudaPath::graph_channels_first;
}

Layout layout_of(Conv3dCudaPath p) {
  return p == Conv3dCudaPath::graph_channels_first || p == Conv3dCudaPath::legacy_channels_first
             ? Layout::channels_first
             : Layout::channels_last;
}

// ---- workspace: one growing buffer per device ----

std::mutex g_workspace_mutex;

void* shared_workspace(int device, size_t bytes) {
  static std::map<int, Tensor> buffers;
  if (bytes == 0) return nullptr;
  std::lock_guard<std::mutex> lock(g_workspace_mutex);
  Tensor& t = buffers[device];
  if (!t.defined() || static_cast<size_t>(t.numel()) < bytes) {
    t = Tensor();  // back to the cache first: the stream orders its reuse after queued work
    t = asn::cuda::workspace(device, bytes);
  }
  return t.raw_data();
}

// ---- geometry checks ----

// cuDNN's legacy API takes int sizes and addresses at most INT_MAX elements per tensor.
void check_int_limits(const Geometry& g, const Shape& x_shape, const Shape& w_shape,
                      const Conv3dParams& p) {
  const int64_t sizes[3] = {g.N * g.Cin * volume(g.staged), g.N * g.Cout * volume(g.out),
                            g.Cout * g.Cin * volume(g.k)};
  for (int64_t s : sizes) {
    ASN_CHECK(s <= INT_MAX,
              "conv3d: input {}, kernel {} ({}) needs a tensor of {} elements; cuDNN's "
              "convolution addresses at most {} (split the batch)",
              x_shape.str(), w_shape.str(), p.str(), s, INT_MAX);
  }
}

template <class T>
cudnnDataType_t cudnn_type();
template <>
cudnnDataType_t cudnn_type<float>() {
  return CUDNN_DATA_FLOAT;
}
template <>
cudnnDataType_t cudnn_type<double>() {
  return CUDNN_DATA_DOUBLE;
}

// ---- staging ----

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kAlignment == 0; }

template <class T>
Tensor device_buffer(int64_t numel, int device) {
  return Tensor::empty(Shape{numel}, dtype_of<T>(), Device::cuda(device));
}

template <class T>
void* ptr_or(const Tensor& staged, const T* fallback) {
  return staged.defined() ? staged.raw_data() : const_cast<T*>(fallback);
}

// A copy of an (n, ..., c) channels-last tensor in `layout` (n, c, spatial d), or undefined when
// the original can be used as it is (channels-last and aligned).
template <class T>
Tensor stage_in(const T* src, int64_t n, int64_t c, const Dims3& d, Layout layout, int device) {
  if (layout == Layout::channels_last && aligned(src)) return Tensor();
  Conv3dStaging s;
  s.n = n;
  s.c = c;
  for (int a = 0; a < 3; ++a) s.src[a] = s.dst[a] = d[a];
  s.src_channels_last = true;
  s.dst_channels_last = layout == Layout::channels_last;
  Tensor t = device_buffer<T>(n * c * volume(d), device);
  conv3d_stage_cuda<T>(src, s, t.data<T>(), device);
  return t;
}

// A buffer for an output computed in `layout`, or undefined when cuDNN can write `dst` directly.
template <class T>
Tensor stage_out(const T* dst, int64_t numel, Layout layout, int device) {
  if (layout == Layout::channels_last && aligned(dst)) return Tensor();
  return device_buffer<T>(numel, device);
}

// Copies an output computed in `layout` into the channels-last destination.
template <class T>
void unstage_out(const Tensor& staged, int64_t n, int64_t c, const Dims3& d, Layout layout, T* dst,
                 int device) {
  if (!staged.defined()) return;
  Conv3dStaging s;
  s.n = n;
  s.c = c;
  for (int a = 0; a < 3; ++a) s.src[a] = s.dst[a] = d[a];
  s.src_channels_last = layout == Layout::channels_last;
  s.dst_channels_last = true;
  conv3d_stage_cuda<T>(staged.data<T>(), s, dst, device);
}

// The input as cuDNN reads it: padded by the explicit part, in `layout`, aligned; undefined when
// x itself is all of that.
template <class T>
Tensor stage_input(const Geometry& g, Layout layout, const T* x, int device) {
  if (!g.padded()) return stage_in<T>(x, g.N, g.Cin, g.in, layout, device);
  Conv3dStaging s;
  s.n = g.N;
  s.c = g.Cin;
  for (int a = 0; a < 3; ++a) {
    s.src[a] = g.in[a];
    s.dst[a] = g.staged[a];
    s.before[a] = g.extra_before[a];
  }
  s.src_channels_last = true;
  s.dst_channels_last = layout == Layout::channels_last;
  Tensor t = device_buffer<T>(g.N * g.Cin * volume(g.staged), device);
  conv3d_stage_cuda<T>(x, s, t.data<T>(), device);
  return t;
}

// A buffer for the staged input's gradient, or undefined when cuDNN can write dx directly.
template <class T>
Tensor stage_input_grad(const Geometry& g, Layout layout, const T* dx, int device) {
  if (!g.padded()) return stage_out<T>(dx, g.N * g.Cin * volume(g.in), layout, device);
  return device_buffer<T>(g.N * g.Cin * volume(g.staged), device);
}

// Crops the staged input's gradient back into dx (N, T, H, W, Cin).
template <class T>
void unstage_input_grad(const Geometry& g, Layout layout, const Tensor& staged, T* dx, int device) {
  if (!staged.defined()) return;
  Conv3dStaging s;
  s.n = g.N;
  s.c = g.Cin;
  for (int a = 0; a < 3; ++a) {
    s.src[a] = g.staged[a];
    s.dst[a] = g.in[a];
    s.before[a] = -g.extra_before[a];
  }
  s.src_channels_last = layout == Layout::channels_last;
  s.dst_channels_last = true;
  conv3d_stage_cuda<T>(staged.data<T>(), s, dx, device);
}

// The caller's channels-last operands of one direction:
//   forward          a = x,  b = w,  out = y
//   backward data    a = dy, b = w,  out = dx
//   backward weight  a = x,  b = dy, out = dw
template <class T>
struct Call {
  Direction dir;
  const T* a;
  const T* b;
  T* out;
  int device;
};

// The operands of one call staged for `layout`; finish() copies a staged output back.
template <class T>
class StagedOperands {
 public:
  StagedOperands(const Geometry& g, Layout layout, const Call<T>& c)
      : g_(g), layout_(layout), c_(c) {
    const int dev = c.device;
    switch (c.dir) {
      case Direction::forward:
        in_a_ = stage_input<T>(g, layout, c.a, dev);
        in_b_ = stage_in<T>(c.b, g.Cout, g.Cin, g.k, layout, dev);
        out_ = stage_out<T>(c.out, g.N * g.Cout * volume(g.out), layout, dev);
        o_ = Operands{ptr_or(in_a_, c.a), ptr_or(in_b_, c.b), ptr_or(out_, c.out)};
        break;
      case Direction::backward_data:
        in_a_ = stage_in<T>(c.a, g.N, g.Cout, g.out, layout, dev);
        in_b_ = stage_in<T>(c.b, g.Cout, g.Cin, g.k, layout, dev);
        out_ = stage_input_grad<T>(g, layout, c.out, dev);
        o_ = Operands{ptr_or(out_, c.out), ptr_or(in_b_, c.b), ptr_or(in_a_, c.a)};
        break;
      case Direction::backward_weight:
        in_a_ = stage_input<T>(g, layout, c.a, dev);
        in_b_ = stage_in<T>(c.b, g.N, g.Cout, g.out, layout, dev);
        out_ = stage_out<T>(c.out, g.Cout * g.Cin * volume(g.k), layout, dev);
        o_ = Operands{ptr_or(in_a_, c.a), ptr_or(out_, c.out), ptr_or(in_b_, c.b)};
        break;
    }
  }

  const Operands& operands() const { return o_; }

  void finish() const {
    switch (c_.dir) {
      case Direction::forward:
        unstage_out<T>(out_, g_.N, g_.Cout, g_.out, layout_, c_.out, c_.device);
        break;
      case Direction::backward_data:
        unstage_input_grad<T>(g_, layout_, out_, c_.out, c_.device);
        break;
      case Direction::backward_weight:
        unstage_out<T>(out_, g_.Cout, g_.Cin, g_.k, layout_, c_.out, c_.device);
        break;
    }
  }

 private:
  const Geometry& g_;
  Layout layout_;
  Call<T> c_;
  Tensor in_a_, in_b_, out_;  // kept alive until the work is queued
  Operands o_;
};

// ---- plans ----

struct Plan {
  bool direct = false;  // the direct kernels
  Layout layout = Layout::channels_last;
  std::unique_ptr<CudnnRunner> runner;
  std::string label;  // "graph channels-last engine 12" / "direct kernels"
};

using PlanKey = std::array<int64_t, 30>;

PlanKey make_key(const Geometry& g, Direction dir, cudnnDataType_t dtype, int device,
                 bool deterministic, bool fma_only, Conv3dCudaPath path) {
  // clang-format off
  return PlanKey{device, static_cast<int64_t>(dir), static_cast<int64_t>(dtype), deterministic,
                 fma_only, static_cast<int64_t>(path),
                 g.N, g.Cin, g.Cout,
                 g.in[0], g.in[1], g.in[2],
                 g.k[0], g.k[1], g.k[2],
                 g.stride[0], g.stride[1], g.stride[2],
                 g.dilation[0], g.dilation[1], g.dilation[2],
                 g.sym[0], g.sym[1], g.sym[2],
                 g.extra_before[0], g.extra_before[1], g.extra_before[2],
                 g.extra_after[0], g.extra_after[1], g.extra_after[2]};
  // clang-format on
}

std::mutex g_plan_mutex;
std::map<PlanKey, std::shared_ptr<const Plan>>& plan_cache() {
  static std::map<PlanKey, std::shared_ptr<const Plan>> cache;
  return cache;
}
std::vector<std::string>& plan_log() {
  static std::vector<std::string> log;
  return log;
}

std::shared_ptr<const Plan> cached_plan(const PlanKey& key) {
  std::lock_guard<std::mutex> lock(g_plan_mutex);
  auto it = plan_cache().find(key);
  return it == plan_cache().end() ? nullptr : it->second;
}

void store_plan(const PlanKey& key, std::shared_ptr<const Plan> plan, const std::string& line) {
  {
    std::lock_guard<std::mutex> lock(g_plan_mutex);
    plan_cache()[key] = std::move(plan);
    plan_log().push_back(line);
  }
  ASN_LOG_DEBUG("{}", line);
  if (log_to_stderr()) std::fprintf(stderr, "[conv3d] %s\n", line.c_str());
}

// Runs a cuDNN plan: stages, executes, copies a staged output back. Returns cuDNN's status.
template <class T>
cudnnStatus_t run_cudnn(const Plan& plan, const Geometry& g, const Call<T>& c) {
  const StagedOperands<T> ops(g, plan.layout, c);
  void* ws = shared_workspace(c.device, plan.runner->workspace_bytes());
  const cudnnStatus_t st = plan.runner->run(asn::cuda::cudnn_handle(c.device), ops.operands(), ws);
  if (st == CUDNN_STATUS_SUCCESS) ops.finish();
  return st;
}

// The best of kTimedRuns timed runs after one warm-up, in ms of device time (staging included);
// infinity when the plan fails to run.
template <class T>
double time_plan(const Plan& plan, const Geometry& g, const Call<T>& c) {
  if (run_cudnn<T>(plan, g, c) != CUDNN_STATUS_SUCCESS)
    return std::numeric_limits<double>::infinity();
  const cudaStream_t s = asn::cuda::stream(c.device);
  cudaEvent_t start = nullptr, stop = nullptr;
  ASN_CUDA_CHECK(cudaEventCreate(&start));
  ASN_CUDA_CHECK(cudaEventCreate(&stop));
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < kTimedRuns; ++r) {
    ASN_CUDA_CHECK(cudaEventRecord(start, s));
    const cudnnStatus_t st = run_cudnn<T>(plan, g, c);
    ASN_CUDA_CHECK(cudaEventRecord(stop, s));
    ASN_CUDA_CHECK(cudaEventSynchronize(stop));
    if (st != CUDNN_STATUS_SUCCESS) {
      best = std::numeric_limits<double>::infinity();
      break;
    }
    float ms = 0;
    ASN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    best = std::min(best, static_cast<double>(ms));
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

// The candidate plans of one path (empty with *why set when it has none).
template <class T>
std::vector<std::unique_ptr<Plan>> candidates_of(Conv3dCudaPath path, const ProblemSpec& base,
                                                 const Geometry& g, const Call<T>& c,
                                                 std::string* why) {
  std::vector<std::unique_ptr<Plan>> plans;
  ProblemSpec spec = base;
  spec.layout = layout_of(path);
  const cudnnHandle_t h = asn::cuda::cudnn_handle(c.device);
  auto add = [&](std::unique_ptr<CudnnRunner> r) {
    auto plan = std::make_unique<Plan>();
    plan->layout = spec.layout;
    plan->label = fmt::format("{} {}", path_name(path), r->name());
    plan->runner = std::move(r);
    plans.push_back(std::move(plan));
  };
  if (is_graph(path)) {
    const int count = spec.deterministic ? 2 : kGraphCandidates;
    for (auto& r : conv_cuda::make_graph_runners(spec, h, count, why)) add(std::move(r));
  } else {
    // Find measures on the staged operands of this layout (its outputs are overwritten later).
    // A descriptor cuDNN refuses makes this path unavailable, not the convolution.
    try {
      const StagedOperands<T> ops(g, spec.layout, c);
      std::unique_ptr<CudnnRunner> r =
          conv_cuda::make_legacy_runner(spec, h, ops.operands(), shared_workspace, why);
      if (r) add(std::move(r));
    } catch (const OutOfMemoryError&) {
      throw;
    } catch (const DeviceError& e) {
      *why = e.what();
    }
  }
  return plans;
}

std::string problem_text(Direction dir, const Shape& x_shape, const Shape& w_shape,
                         const Conv3dParams& p, cudnnDataType_t dtype) {
  return fmt::format("{} {} x {} w {} ({})", direction_name(dir),
                     dtype == CUDNN_DATA_DOUBLE ? "f64" : "f32", x_shape.str(), w_shape.str(),
                     p.str());
}

// Chooses the plan of a new problem (see the file comment) and runs it once on the way.
// *line describes the choice for the log.
template <class T>
std::shared_ptr<const Plan> choose_plan(const Geometry& g, const Call<T>& c, Conv3dCudaPath forced,
                                        const Shape& x_shape, const Shape& w_shape,
                                        const Conv3dParams& p, std::string* line) {
  ProblemSpec base;
  base.g = g;
  base.dir = c.dir;
  base.dtype = cudnn_type<T>();
  base.device = c.device;
  base.deterministic = asn::deterministic();
  base.fma_only = base.dtype == CUDNN_DATA_FLOAT && !asn::allow_tf32();
  base.workspace_limit = asn::cuda::workspace_limit();

  std::vector<Conv3dCudaPath> paths;
  if (forced != Conv3dCudaPath::automatic) {
    if (forced != Conv3dCudaPath::direct) paths.push_back(forced);
  } else if (base.deterministic) {
    paths = {Conv3dCudaPath::legacy_channels_last, Conv3dCudaPath::legacy_channels_first};
  } else {
    paths = {Conv3dCudaPath::graph_channels_last, Conv3dCudaPath::legacy_channels_last,
             Conv3dCudaPath::graph_channels_first, Conv3dCudaPath::legacy_channels_first};
  }

  std::string notes;  // why paths offered nothing, and the candidates' times
  std::shared_ptr<Plan> best;
  double best_ms = std::numeric_limits<double>::infinity();
  for (Conv3dCudaPath path : paths) {
    std::string why;
    std::vector<std::unique_ptr<Plan>> plans = candidates_of<T>(path, base, g, c, &why);
    if (plans.empty()) notes += fmt::format("; {}: {}", path_name(path), why);
    for (std::unique_ptr<Plan>& plan : plans) {
      if (base.deterministic) {
        // No timing: the first candidate that runs.
        if (run_cudnn<T>(*plan, g, c) != CUDNN_STATUS_SUCCESS) {
          notes += fmt::format("; {} failed to run", plan->label);
          continue;
        }
        best = std::move(plan);
        break;
      }
      const double ms = time_plan<T>(*plan, g, c);
      notes += ms == std::numeric_limits<double>::infinity()
                   ? fmt::format("; {} failed to run", plan->label)
                   : fmt::format("; {} {:.3f} ms", plan->label, ms);
      if (ms < best_ms) {
        best_ms = ms;
        best = std::move(plan);
      }
    }
    if (base.deterministic && best) break;
  }
  const std::string problem = problem_text(c.dir, x_shape, w_shape, p, base.dtype);
  if (!best) {
    best = std::make_shared<Plan>();
    best->direct = true;
    best->label = "direct kernels";
    *line = fmt::format("{}: direct kernels{}", problem, notes);
    if (forced != Conv3dCudaPath::direct) {
      ASN_LOG_WARN(
          "conv3d: no usable cuDNN {} plan for input {} kernel {} ({}){}; using the "
          "direct kernels (slow)",
          direction_name(c.dir), x_shape.str(), w_shape.str(), p.str(), notes);
    }
  } else {
    *line = fmt::format("{}: {} (workspace {} B){}", problem, best->label,
                        best->runner->workspace_bytes(), notes);
  }
  return std::shared_ptr<const Plan>(std::move(best));
}

template <class T>
void run_direct(const Call<T>& c, const Shape& x_shape, const Shape& w_shape,
                const Conv3dParams& p) {
  switch (c.dir) {
    case Direction::forward:
      conv3d_direct_forward_cuda<T>(c.a, x_shape, c.b, w_shape, p, c.out, c.device);
      break;
    case Direction::backward_data:
      conv3d_direct_backward_data_cuda<T>(c.a, x_shape, c.b, w_shape, p, c.out, c.device);
      break;
    case Direction::backward_weight:
      conv3d_direct_backward_weight_cuda<T>(c.a, x_shape, c.b, w_shape, p, c.out, c.device);
      break;
  }
}

// Runs one non-pointwise f32 direction through its (cached or new) plan.
template <class T>
void run_planned(const Geometry& g, const Call<T>& c, const Shape& x_shape, const Shape& w_shape,
                 const Conv3dParams& p) {
  const Conv3dCudaPath forced = conv3d_cuda_path();
  const bool det = asn::deterministic();
  const bool fma_only = cudnn_type<T>() == CUDNN_DATA_FLOAT && !asn::allow_tf32();
  const PlanKey key = make_key(g, c.dir, cudnn_type<T>(), c.device, det, fma_only, forced);
  std::shared_ptr<const Plan> plan = cached_plan(key);
  if (!plan) {
    if (forced != Conv3dCudaPath::direct) check_int_limits(g, x_shape, w_shape, p);
    std::string line;
    plan = choose_plan<T>(g, c, forced, x_shape, w_shape, p, &line);
    store_plan(key, plan, line);
  }
  if (plan->direct) {
    run_direct<T>(c, x_shape, w_shape, p);
    return;
  }
  const cudnnStatus_t st = run_cudnn<T>(*plan, g, c);
  if (st != CUDNN_STATUS_SUCCESS) {
    ASN_THROW(DeviceError, "conv3d: cuDNN {} ({}) failed for input {} kernel {} ({}): {}",
              direction_name(c.dir), plan->label, x_shape.str(), w_shape.str(), p.str(),
              cudnnGetErrorString(st));
  }
}

void zero(void* p, size_t bytes, int device) {
  if (bytes > 0) ASN_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, asn::cuda::stream(device)));
}

}  // namespace

void set_conv3d_cuda_path(Conv3dCudaPath path) {
  std::lock_guard<std::mutex> lock(g_path_mutex);
  path_setting() = path;
}

Conv3dCudaPath conv3d_cuda_path() {
  std::lock_guard<std::mutex> lock(g_path_mutex);
  return path_setting();
}

std::vector<std::string> conv3d_cuda_plans() {
  std::lock_guard<std::mutex> lock(g_plan_mutex);
  return plan_log();
}

template <class T>
void conv3d_forward_cuda(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                         const Conv3dParams& p, T* y, int device) {
  const Geometry g = conv_cuda::make_geometry(x_shape, w_shape, p);
  const int64_t rows = g.N * volume(g.out);  // output positions
  if (rows * g.Cout == 0) return;
  asn::cuda::set_device(device);
  if (g.Cin == 0) {  // empty sums
    zero(y, static_cast<size_t>(rows * g.Cout) * sizeof(T), device);
    return;
  }
  if (g.pointwise(p)) {
    dense_forward_cuda<T>(x, w, nullptr, rows, g.Cin, g.Cout, y, device);
    return;
  }
  if constexpr (std::is_same_v<T, double>) {
    conv3d_direct_forward_cuda<T>(x, x_shape, w, w_shape, p, y, device);
    return;
  }
  run_planned<T>(g, Call<T>{Direction::forward, x, w, y, device}, x_shape, w_shape, p);
}

template <class T>
void conv3d_backward_data_cuda(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                               const Conv3dParams& p, T* dx, int device) {
  const Geometry g = conv_cuda::make_geometry(x_shape, w_shape, p);
  if (x_shape.numel() == 0) return;
  asn::cuda::set_device(device);
  if (g.Cout == 0) {  // no output channel depends on x
    zero(dx, static_cast<size_t>(x_shape.numel()) * sizeof(T), device);
    return;
  }
  const int64_t rows = g.N * volume(g.out);
  if (g.pointwise(p)) {
    dense_backward_cuda<T>(dy, nullptr, w, rows, g.Cin, g.Cout, dx, nullptr, nullptr, device);
    return;
  }
  if constexpr (std::is_same_v<T, double>) {
    conv3d_direct_backward_data_cuda<T>(dy, x_shape, w, w_shape, p, dx, device);
    return;
  }
  run_planned<T>(g, Call<T>{Direction::backward_data, dy, w, dx, device}, x_shape, w_shape, p);
}

template <class T>
void conv3d_backward_weight_cuda(const T* x, const Shape& x_shape, const T* dy,
                                 const Shape& w_shape, const Conv3dParams& p, T* dw, int device) {
  const Geometry g = conv_cuda::make_geometry(x_shape, w_shape, p);
  if (w_shape.numel() == 0) return;
  asn::cuda::set_device(device);
  const int64_t rows = g.N * volume(g.out);
  if (rows == 0) {  // an empty batch: empty sums
    zero(dw, static_cast<size_t>(w_shape.numel()) * sizeof(T), device);
    return;
  }
  if (g.pointwise(p)) {
    dense_backward_cuda<T>(dy, x, nullptr, rows, g.Cin, g.Cout, nullptr, dw, nullptr, device);
    return;
  }
  if constexpr (std::is_same_v<T, double>) {
    conv3d_direct_backward_weight_cuda<T>(x, x_shape, dy, w_shape, p, dw, device);
    return;
  }
  run_planned<T>(g, Call<T>{Direction::backward_weight, x, dy, dw, device}, x_shape, w_shape, p);
}

template void conv3d_forward_cuda<float>(const float*, const Shape&, const float*, const Shape&,
                                         const Conv3dParams&, float*, int);
template void conv3d_forward_cuda<double>(const double*, const Shape&, const double*, const Shape&,
                                          const Conv3dParams&, double*, int);
template void conv3d_backward_data_cuda<float>(const float*, const Shape&, const float*,
                                               const Shape&, const Conv3dParams&, float*, int);
template void conv3d_backward_data_cuda<double>(const double*, const Shape&, const double*,
                                                const Shape&, const Conv3dParams&, double*, int);
template void conv3d_backward_weight_cuda<float>(const float*, const Shape&, const float*,
                                                 const Shape&, const Conv3dParams&, float*, int);
template void conv3d_backward_weight_cuda<double>(const double*, const Shape&, const double*,
                                                  const Shape&, const Conv3dParams&, double*, int);

}  // namespace asn::kernels

#endif  // ASN_WITH_CUDA
