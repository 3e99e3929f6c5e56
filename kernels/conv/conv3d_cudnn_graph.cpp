// conv3d runners on cuDNN's backend (graph) API (see conv3d_cudnn_plan.h): the convolution as a
// one-operation graph, engine configurations from cuDNN's heuristics (mode A, else the fallback
// list), one finalized execution plan per runner. A call only builds a variant pack (the three
// data pointers and the workspace) and executes the cached plan.
//
// Why besides the legacy API: the legacy algorithm enums reach only part of cuDNN's engines, and
// in channels-last f32 without tensor cores their kernels were measured well behind what
// PyTorch's cudnn.benchmark (the graph API, every engine timed) runs for the same shapes on an
// H200 (docs/benchmarks.md). conv3d_cudnn.cpp times these plans against the legacy choice and
// keeps the fastest.
//
// Tensors: x, w, y as 5-D (N, C, D0, D1, D2) / (Cout, Cin, k0, k1, k2) with the strides of the
// layout (conv3d_cudnn_plan.h), 16-byte alignment, unique ids 1 (x/dx), 2 (w/dw), 3 (y/dy). The
// convolution pads symmetrically (pre = post = sym), as the legacy path, so both see the same
// staged operands. Every cuDNN refusal while building is reported through *why, never thrown:
// the graph path is one candidate among several.
#ifdef ASN_WITH_CUDA

#include <cudnn.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv/conv3d_cudnn_plan.h"

namespace asn::kernels::conv_cuda {

namespace {

constexpr int64_t kUidX = 1, kUidW = 2, kUidY = 3;
constexpr int64_t kAlignmentBytes = 16;
constexpr int kMaxHeuristicResults = 32;

// One backend descriptor (RAII). status() is the creation status.
class BackendDesc {
 public:
  explicit BackendDesc(cudnnBackendDescriptorType_t type)
      : status_(cudnnBackendCreateDescriptor(type, &d_)) {}
  ~BackendDesc() {
    if (d_ != nullptr) cudnnBackendDestroyDescriptor(d_);
  }
  BackendDesc(const BackendDesc&) = delete;
  BackendDesc& operator=(const BackendDesc&) = delete;
  cudnnBackendDescriptor_t get() const { return d_; }
  cudnnBackendDescriptor_t* ptr() { return &d_; }
  cudnnStatus_t status() const { return status_; }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
  cudnnStatus_t status_;
};

using DescPtr = std::shared_ptr<BackendDesc>;

// Collects the first failure of a sequence of backend calls (later calls are skipped).
class Builder {
 public:
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  void check(cudnnStatus_t st, const char* what) {
    if (!ok_ || st == CUDNN_STATUS_SUCCESS) return;
    ok_ = false;
    error_ = fmt::format("{}: {}", what, cudnnGetErrorString(st));
  }
  DescPtr create(cudnnBackendDescriptorType_t type, const char* what) {
    auto d = std::make_shared<BackendDesc>(type);
    check(d->status(), what);
    return d;
  }
  void set(const DescPtr& d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
           int64_t count, const void* values, const char* what) {
    if (!ok_) return;
    check(cudnnBackendSetAttribute(d->get(), name, type, count, values), what);
  }
  void set_desc(const DescPtr& d, cudnnBackendAttributeName_t name, const DescPtr& value,
                const char* what) {
    if (!ok_) return;
    cudnnBackendDescriptor_t raw = value->get();
    check(cudnnBackendSetAttribute(d->get(), name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw), what);
  }
  void finalize(const DescPtr& d, const char* what) {
    if (!ok_) return;
    check(cudnnBackendFinalize(d->get()), what);
  }

 private:
  bool ok_ = true;
  std::string error_;
};

// The handle attributes are deprecated in favour of device-property descriptors in cuDNN 9, but
// remain the documented way to bind a graph and a plan to a handle (and its stream).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
constexpr cudnnBackendAttributeName_t kGraphHandle = CUDNN_ATTR_OPERATIONGRAPH_HANDLE;
constexpr cudnnBackendAttributeName_t kPlanHandle = CUDNN_ATTR_EXECUTION_PLAN_HANDLE;
#pragma GCC diagnostic pop

// Dimensions and strides of a (n, c, s0, s1, s2) activation in `layout`'s packed memory.
void activation_dims(Layout layout, int64_t n, int64_t c, const Dims3& s, int64_t dims[5],
                     int64_t strides[5]) {
  dims[0] = n;
  dims[1] = c;
  for (int a = 0; a < 3; ++a) dims[2 + a] = s[a];
  if (layout == Layout::channels_last) {
    strides[1] = 1;
    strides[4] = c;
    strides[3] = s[2] * c;
    strides[2] = s[1] * s[2] * c;
    strides[0] = s[0] * s[1] * s[2] * c;
  } else {
    strides[4] = 1;
    strides[3] = s[2];
    strides[2] = s[1] * s[2];
    strides[1] = s[0] * s[1] * s[2];
    strides[0] = c * s[0] * s[1] * s[2];
  }
}

DescPtr make_tensor(Builder& b, int64_t uid, cudnnDataType_t dt, const int64_t dims[5],
                    const int64_t strides[5]) {
  DescPtr t = b.create(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "tensor descriptor");
  b.set(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, "tensor data type");
  b.set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 5, dims, "tensor dimensions");
  b.set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 5, strides, "tensor strides");
  b.set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, "tensor id");
  b.set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &kAlignmentBytes,
        "tensor alignment");
  b.finalize(t, "tensor finalize");
  return t;
}

// The operation graph of one problem and every descriptor it references (kept alive with it).
struct Graph {
  DescPtr x, w, y, conv, op, graph;
};

std::shared_ptr<Graph> make_graph(const ProblemSpec& spec, cudnnHandle_t h, Builder& b) {
  const Geometry& g = spec.g;
  auto gr = std::make_shared<Graph>();
  int64_t dims[5], strides[5];
  activation_dims(spec.layout, g.N, g.Cin, g.staged, dims, strides);
  gr->x = make_tensor(b, kUidX, spec.dtype, dims, strides);
  activation_dims(spec.layout, g.N, g.Cout, g.out, dims, strides);
  gr->y = make_tensor(b, kUidY, spec.dtype, dims, strides);
  // The kernel: memory (Cout, k0, k1, k2, Cin) channels-last, (Cout, Cin, k0, k1, k2) otherwise.
  const int64_t wdims[5] = {g.Cout, g.Cin, g.k[0], g.k[1], g.k[2]};
  int64_t wstrides[5];
  if (spec.layout == Layout::channels_last) {
    wstrides[1] = 1;
    wstrides[4] = g.Cin;
    wstrides[3] = g.k[2] * g.Cin;
    wstrides[2] = g.k[1] * g.k[2] * g.Cin;
    wstrides[0] = g.k[0] * g.k[1] * g.k[2] * g.Cin;
  } else {
    wstrides[4] = 1;
    wstrides[3] = g.k[2];
    wstrides[2] = g.k[1] * g.k[2];
    wstrides[1] = g.k[0] * g.k[1] * g.k[2];
    wstrides[0] = g.Cin * g.k[0] * g.k[1] * g.k[2];
  }
  gr->w = make_tensor(b, kUidW, spec.dtype, wdims, wstrides);

  gr->conv = b.create(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, "convolution descriptor");
  const cudnnDataType_t comp = spec.dtype;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const int64_t spatial = 3;
  int64_t pad[3], stride[3], dilation[3];
  for (int a = 0; a < 3; ++a) {
    pad[a] = g.sym[a];
    stride[a] = g.stride[a];
    dilation[a] = g.dilation[a];
  }
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp,
        "convolution compute type");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode,
        "convolution mode");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial,
        "convolution spatial dims");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 3, dilation,
        "convolution dilations");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 3, stride,
        "convolution strides");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 3, pad,
        "convolution pre-paddings");
  b.set(gr->conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 3, pad,
        "convolution post-paddings");
  b.finalize(gr->conv, "convolution finalize");

  // alpha 1, beta 0, in the compute type's host type.
  const float alpha_f = 1, beta_f = 0;
  const double alpha_d = 1, beta_d = 0;
  const bool dbl = spec.dtype == CUDNN_DATA_DOUBLE;
  const cudnnBackendAttributeType_t st = dbl ? CUDNN_TYPE_DOUBLE : CUDNN_TYPE_FLOAT;
  const void* alpha = dbl ? static_cast<const void*>(&alpha_d) : &alpha_f;
  const void* beta = dbl ? static_cast<const void*>(&beta_d) : &beta_f;
  switch (spec.dir) {
    case Direction::forward:
      gr->op = b.create(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, "forward op");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, gr->x, "forward x");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, gr->w, "forward w");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, gr->y, "forward y");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, gr->conv,
                 "forward conv");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, st, 1, alpha, "forward alpha");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, st, 1, beta, "forward beta");
      break;
    case Direction::backward_data:
      gr->op = b.create(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
                        "backward data op");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, gr->x, "backward data dx");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, gr->w, "backward data w");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, gr->y, "backward data dy");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, gr->conv,
                 "backward data conv");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, st, 1, alpha,
            "backward data alpha");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, st, 1, beta,
            "backward data beta");
      break;
    case Direction::backward_weight:
      gr->op = b.create(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR,
                        "backward filter op");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, gr->x, "backward filter x");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, gr->w,
                 "backward filter dw");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, gr->y,
                 "backward filter dy");
      b.set_desc(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, gr->conv,
                 "backward filter conv");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, st, 1, alpha,
            "backward filter alpha");
      b.set(gr->op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA, st, 1, beta,
            "backward filter beta");
      break;
  }
  b.finalize(gr->op, "operation finalize");

  gr->graph = b.create(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph");
  b.set_desc(gr->graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, gr->op, "graph ops");
  b.set(gr->graph, kGraphHandle, CUDNN_TYPE_HANDLE, 1, &h, "graph handle");
  b.finalize(gr->graph, "graph finalize");
  return gr;
}

// The engine configurations cuDNN's heuristics propose in `mode`, best first (empty on refusal).
std::vector<DescPtr> heuristic_configs(const Graph& gr, cudnnBackendHeurMode_t mode) {
  Builder b;
  DescPtr heur = b.create(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "heuristics");
  b.set_desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, gr.graph, "heuristics graph");
  b.set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "heuristics mode");
  b.finalize(heur, "heuristics finalize");
  if (!b.ok()) return {};
  std::vector<DescPtr> cfgs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int i = 0; i < kMaxHeuristicResults; ++i) {
    cfgs.push_back(b.create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "engine config"));
    raw.push_back(cfgs.back()->get());
  }
  if (!b.ok()) return {};
  int64_t got = 0;
  const cudnnStatus_t st = cudnnBackendGetAttribute(heur->get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                    CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                                    kMaxHeuristicResults, &got, raw.data());
  if (st != CUDNN_STATUS_SUCCESS) return {};
  cfgs.resize(static_cast<size_t>(std::clamp<int64_t>(got, 0, kMaxHeuristicResults)));
  return cfgs;
}

// What the engine of `cfg` is, and whether it qualifies (else *skip says why).
struct EngineInfo {
  int64_t index = -1;
  std::string notes;  // short tags for the log: "tc", "fft", "winograd", "nondet", "rtc"
};

bool qualifies(const ProblemSpec& spec, const DescPtr& cfg, EngineInfo* info, std::string* skip) {
  Builder b;
  DescPtr eng = b.create(CUDNN_BACKEND_ENGINE_DESCRIPTOR, "engine");
  if (!b.ok()) {
    *skip = b.error();
    return false;
  }
  int64_t n = 0;
  cudnnBackendDescriptor_t raw = eng->get();
  cudnnStatus_t st = cudnnBackendGetAttribute(cfg->get(), CUDNN_ATTR_ENGINECFG_ENGINE,
                                              CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &raw);
  if (st != CUDNN_STATUS_SUCCESS) {
    *skip = fmt::format("engine of config: {}", cudnnGetErrorString(st));
    return false;
  }
  cudnnBackendGetAttribute(eng->get(), CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n,
                           &info->index);
  cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
  int64_t nnotes = 0;
  st = cudnnBackendGetAttribute(eng->get(), CUDNN_ATTR_ENGINE_NUMERICAL_NOTE,
                                CUDNN_TYPE_NUMERICAL_NOTE, CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nnotes,
                                notes);
  if (st != CUDNN_STATUS_SUCCESS) {
    // Unknown numerics: acceptable only when nothing is excluded by them.
    if (spec.fma_only || spec.deterministic) {
      *skip = fmt::format("numerical notes: {}", cudnnGetErrorString(st));
      return false;
    }
    nnotes = 0;
  }
  cudnnBackendBehaviorNote_t behaviour[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
  int64_t nbehaviour = 0;
  st = cudnnBackendGetAttribute(eng->get(), CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE,
                                CUDNN_TYPE_BEHAVIOR_NOTE, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT,
                                &nbehaviour, behaviour);
  if (st != CUDNN_STATUS_SUCCESS) nbehaviour = 0;  // older engines may not report behaviour
  nnotes = std::clamp<int64_t>(nnotes, 0, CUDNN_NUMERICAL_NOTE_TYPE_COUNT);
  nbehaviour = std::clamp<int64_t>(nbehaviour, 0, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT);
  for (int64_t i = 0; i < nnotes; ++i) {
    switch (notes[i]) {
      case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
        if (spec.fma_only) {
          *skip = "tensor cores (TF32 not allowed)";
          return false;
        }
        info->notes += " tc";
        break;
      case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
        *skip = "down-converts inputs";
        return false;
      case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
        *skip = "reduced-precision reduction";
        return false;
      case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC:
        if (spec.deterministic) {
          *skip = "non-deterministic";
          return false;
        }
        info->notes += " nondet";
        break;
      case CUDNN_NUMERICAL_NOTE_FFT:
        info->notes += " fft";
        break;
      case CUDNN_NUMERICAL_NOTE_WINOGRAD:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13:
        info->notes += " winograd";
        break;
      default:
        break;
    }
  }
  for (int64_t i = 0; i < nbehaviour; ++i) {
    if (behaviour[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) {
      *skip = "runtime compilation";
      return false;
    }
  }
  return true;
}

class GraphRunner : public CudnnRunner {
 public:
  GraphRunner(std::shared_ptr<Graph> graph, DescPtr cfg, DescPtr plan, size_t workspace,
              EngineInfo info)
      : graph_(std::move(graph)),
        cfg_(std::move(cfg)),
        plan_(std::move(plan)),
        workspace_(workspace),
        info_(std::move(info)) {}

  size_t workspace_bytes() const override { return workspace_; }

  cudnnStatus_t run(cudnnHandle_t h, const Operands& o, void* workspace) const override {
    BackendDesc vp(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    if (vp.status() != CUDNN_STATUS_SUCCESS) return vp.status();
    const int64_t uids[3] = {kUidX, kUidW, kUidY};
    void* ptrs[3] = {o.x, o.w, o.y};
    cudnnStatus_t st = cudnnBackendSetAttribute(vp.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS,
                                                CUDNN_TYPE_INT64, 3, uids);
    if (st == CUDNN_STATUS_SUCCESS) {
      st = cudnnBackendSetAttribute(vp.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS,
                                    CUDNN_TYPE_VOID_PTR, 3, ptrs);
    }
    if (st == CUDNN_STATUS_SUCCESS) {
      st = cudnnBackendSetAttribute(vp.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE,
                                    CUDNN_TYPE_VOID_PTR, 1, &workspace);
    }
    if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendFinalize(vp.get());
    if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendExecute(h, plan_->get(), vp.get());
    return st;
  }

  std::string name() const override { return fmt::format("engine {}{}", info_.index, info_.notes); }

 private:
  std::shared_ptr<Graph> graph_;
  DescPtr cfg_, plan_;  // destroyed before the graph they were built from
  size_t workspace_;
  EngineInfo info_;
};

}  // namespace

std::vector<std::unique_ptr<CudnnRunner>> make_graph_runners(const ProblemSpec& spec,
                                                             cudnnHandle_t h, int max_count,
                                                             std::string* why) {
  std::vector<std::unique_ptr<CudnnRunner>> runners;
  Builder b;
  std::shared_ptr<Graph> gr = make_graph(spec, h, b);
  if (!b.ok()) {
    *why = b.error();
    return runners;
  }
  std::string skipped;
  int considered = 0;
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
    for (const DescPtr& cfg : heuristic_configs(*gr, mode)) {
      if (static_cast<int>(runners.size()) >= max_count) break;
      ++considered;
      EngineInfo info;
      std::string skip;
      if (!qualifies(spec, cfg, &info, &skip)) {
        if (skipped.size() < 200) skipped += fmt::format("; engine {}: {}", info.index, skip);
        continue;
      }
      Builder pb;
      DescPtr plan = pb.create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "plan");
      pb.set(plan, kPlanHandle, CUDNN_TYPE_HANDLE, 1, &h, "plan handle");
      pb.set_desc(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg, "plan config");
      pb.finalize(plan, "plan finalize");
      int64_t ws = 0, n = 0;
      if (pb.ok()) {
        pb.check(cudnnBackendGetAttribute(plan->get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                          CUDNN_TYPE_INT64, 1, &n, &ws),
                 "plan workspace");
      }
      if (!pb.ok()) {
        if (skipped.size() < 200) skipped += fmt::format("; engine {}: {}", info.index, pb.error());
        continue;
      }
      if (ws < 0 || static_cast<size_t>(ws) > spec.workspace_limit) {
        if (skipped.size() < 200) {
          skipped += fmt::format("; engine {}: workspace {} B over the limit", info.index, ws);
        }
        continue;
      }
      runners.push_back(
          std::make_unique<GraphRunner>(gr, cfg, plan, static_cast<size_t>(ws), std::move(info)));
    }
    if (!runners.empty()) break;  // the fallback list only when mode A gave nothing usable
  }
  if (runners.empty()) {
    *why = fmt::format("no usable engine among {} heuristic results{}", considered, skipped);
  }
  return runners;
}

}  // namespace asn::kernels::conv_cuda

#endif  // ASN_WITH_CUDA
