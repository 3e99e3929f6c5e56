// conv3d on CUDA (see conv3d.h for the contract): pointwise convolutions through the cuBLASLt
// dense kernels, everything else through cuDNN's convolution (legacy API, Nd descriptors).
//
// A cuDNN call sees:
//   x  (N, Cin, D0, D1, D2)  with the input already padded by the explicit (asymmetric) part
//   w  (Cout, Cin, k0, k1, k2)  as a CUDNN_TENSOR_NHWC filter (memory (Cout, k0, k1, k2, Cin)) or
//                               a CUDNN_TENSOR_NCHW one on the channels-first path
//   y  (N, Cout, O0, O1, O2)
// where the tensor descriptors carry the strides of our channels-last memory (N, D0, D1, D2, C),
// or of packed channels-first copies. cuDNN pads every axis symmetrically by sym = min(before,
// after, extent - 1); the remainder (before - sym, after - sym) is explicit. The output length is
// the same: (n + eb + ea + 2 sym - extent) / s + 1 = (n + before + after - extent) / s + 1.
//
// Copies (conv3d_staging.h) are made only where needed: the padded input; every operand on the
// channels-first path; and any operand whose address is not 16-byte aligned (weights are views
// into the flat parameter buffer at any offset; cuDNN's vectorised kernels want aligned rows), so
// cuDNN always sees aligned pointers and a cached algorithm stays valid for every call.
//
// Algorithm choice is cached per problem (see conv3d.h). A layout for which cuDNN offers no
// usable algorithm, or whose chosen algorithm reports "not supported" when run, is remembered as
// unusable and the next layout is tried (f32: channels-last, then channels-first).
#ifdef ASN_WITH_CUDA

#include <cudnn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/cuda/handles.h"
#include "engine/runtime_flags.h"
#include "engine/tensor.h"
#include "kernels/conv/conv3d.h"
#include "kernels/conv/conv3d_direct.h"
#include "kernels/conv/conv3d_staging.h"
#include "kernels/dense/dense.h"

namespace asn::kernels {

namespace {

constexpr size_t kAlignment = 16;  // bytes every operand handed to cuDNN is aligned to

// ---- descriptors (RAII) ----

class TensorDesc {
 public:
  TensorDesc() { ASN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d_); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

class FilterDesc {
 public:
  FilterDesc() { ASN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d_)); }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d_); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

class ConvDesc {
 public:
  ConvDesc() { ASN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d_)); }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d_); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

// ---- geometry ----

enum class Layout { channels_last = 0, channels_first = 1 };
enum class Direction { forward = 0, backward_data = 1, backward_weight = 2 };

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

int64_t volume(const Dims3& d) { return d[0] * d[1] * d[2]; }

struct Geometry {
  int64_t N = 0, Cin = 0, Cout = 0;
  Dims3 in{}, k{}, out{};  // input, kernel and output sizes along (T, H, W)
  Dims3 stride{}, dilation{};
  Dims3 sym{};                          // symmetric pad handed to cuDNN
  Dims3 extra_before{}, extra_after{};  // explicit padding of the staged input
  Dims3 staged{};                       // input sizes after the explicit padding

  bool padded() const {
    for (int a = 0; a < 3; ++a)
      if (extra_before[a] != 0 || extra_after[a] != 0) return true;
    return false;
  }
  // A 1x1x1 kernel, stride 1, no padding: a GEMM over (N*T*H*W, C) rows.
  bool pointwise(const Conv3dParams& p) const {
    for (int a = 0; a < 3; ++a) {
      if (k[a] != 1 || stride[a] != 1 || p.pad[a].before != 0 || p.pad[a].after != 0) return false;
    }
    return true;
  }
};

// Checks the shapes and parameters (conv3d errors) and splits the padding.
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

// Layouts to try, in order: cuDNN has channels-last (NHWC filter) convolutions for f32 but not
// for f64.
template <class T>
std::vector<Layout> layouts_for() {
  // f32 runs in place in our channels-last layout; when cuDNN has no algorithm for that (or for
  // f64, where its channels-first path gave wrong results on an H200), the direct kernels of
  // conv3d_direct.h run instead (see fallback below).
  return {Layout::channels_last};
}

// (n, c, s0, s1, s2) with the strides of the layout's packed memory.
void set_tensor(const TensorDesc& d, cudnnDataType_t dt, Layout layout, int64_t n, int64_t c,
                const Dims3& s) {
  const int dims[5] = {static_cast<int>(n), static_cast<int>(c), static_cast<int>(s[0]),
                       static_cast<int>(s[1]), static_cast<int>(s[2])};
  int strides[5];
  if (layout == Layout::channels_last) {
    strides[1] = 1;
    strides[4] = static_cast<int>(c);
    strides[3] = static_cast<int>(s[2] * c);
    strides[2] = static_cast<int>(s[1] * s[2] * c);
    strides[0] = static_cast<int>(s[0] * s[1] * s[2] * c);
  } else {
    strides[4] = 1;
    strides[3] = static_cast<int>(s[2]);
    strides[2] = static_cast<int>(s[1] * s[2]);
    strides[1] = static_cast<int>(s[0] * s[1] * s[2]);
    strides[0] = static_cast<int>(c * s[0] * s[1] * s[2]);
  }
  ASN_CUDNN_CHECK(cudnnSetTensorNdDescriptor(d.get(), dt, 5, dims, strides));
}

// The descriptors of one convolution in one layout, and the switches it runs under.
struct Problem {
  const Geometry& g;
  Layout layout;
  cudnnDataType_t dtype;
  int device;
  bool deterministic;
  bool fma_only;  // f32 without TF32
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;

  Problem(const Geometry& geo, Layout l, cudnnDataType_t dt, int dev)
      : g(geo),
        layout(l),
        dtype(dt),
        device(dev),
        deterministic(asn::deterministic()),
        fma_only(dt == CUDNN_DATA_FLOAT && !asn::allow_tf32()) {
    set_tensor(x, dtype, layout, g.N, g.Cin, g.staged);
    set_tensor(y, dtype, layout, g.N, g.Cout, g.out);
    const int wdims[5] = {static_cast<int>(g.Cout), static_cast<int>(g.Cin),
                          static_cast<int>(g.k[0]), static_cast<int>(g.k[1]),
                          static_cast<int>(g.k[2])};
    ASN_CUDNN_CHECK(cudnnSetFilterNdDescriptor(
        w.get(), dtype, layout == Layout::channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW, 5,
        wdims));
    int pad[3], stride[3], dilation[3];
    for (int a = 0; a < 3; ++a) {
      pad[a] = static_cast<int>(g.sym[a]);
      stride[a] = static_cast<int>(g.stride[a]);
      dilation[a] = static_cast<int>(g.dilation[a]);
    }
    ASN_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(conv.get(), 3, pad, stride, dilation,
                                                    CUDNN_CROSS_CORRELATION, dtype));
    ASN_CUDNN_CHECK(
        cudnnSetConvolutionMathType(conv.get(), fma_only ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
    // cuDNN's output shape must be ours (a mismatch would be a bug in the padding split).
    int od[5];
    ASN_CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(conv.get(), x.get(), w.get(), 5, od));
    const int64_t want[5] = {g.N, g.Cout, g.out[0], g.out[1], g.out[2]};
    for (int i = 0; i < 5; ++i) {
      if (od[i] != want[i]) {
        ASN_THROW(DeviceError,
                  "conv3d: cuDNN's output dims ({}, {}, {}, {}, {}) differ from the expected "
                  "({}, {}, {}, {}, {}) (staged input ({}, {}, {}), symmetric pads ({}, {}, {}))",
                  od[0], od[1], od[2], od[3], od[4], want[0], want[1], want[2], want[3], want[4],
                  g.staged[0], g.staged[1], g.staged[2], pad[0], pad[1], pad[2]);
      }
    }
  }
};

// Device pointers of one call as cuDNN sees them: x (or dx), w (or dw), y (or dy).
struct Operands {
  void* x;
  void* w;
  void* y;
};

// ---- algorithm choice ----

struct AlgoChoice {
  bool usable = false;
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

using AlgoKey = std::array<int64_t, 24>;

AlgoKey make_key(const Problem& pb, Direction dir) {
  const Geometry& g = pb.g;
  // clang-format off
  return AlgoKey{pb.device, static_cast<int64_t>(dir), static_cast<int64_t>(pb.dtype),
                 static_cast<int64_t>(pb.layout), pb.deterministic, pb.fma_only,
                 g.N, g.Cin, g.Cout,
                 g.staged[0], g.staged[1], g.staged[2],
                 g.k[0], g.k[1], g.k[2],
                 g.sym[0], g.sym[1], g.sym[2],
                 g.stride[0], g.stride[1], g.stride[2],
                 g.dilation[0], g.dilation[1], g.dilation[2]};
  // clang-format on
}

std::mutex g_cache_mutex;
std::map<AlgoKey, AlgoChoice>& algo_cache() {
  static std::map<AlgoKey, AlgoChoice> cache;
  return cache;
}

bool cache_lookup(const AlgoKey& key, AlgoChoice* out) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto it = algo_cache().find(key);
  if (it == algo_cache().end()) return false;
  *out = it->second;
  return true;
}

void cache_store(const AlgoKey& key, const AlgoChoice& c) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  algo_cache()[key] = c;
}

bool known_unusable(const AlgoKey& key) {
  AlgoChoice c;
  return cache_lookup(key, &c) && !c.usable;
}

bool not_supported(cudnnStatus_t st) {
  return CUDNN_STATUS_CATEGORY(st) == CUDNN_STATUS_NOT_SUPPORTED;
}

// The cuDNN entry points of each direction, behind one interface.
struct ForwardOps {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kPlainAlgo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Problem& p, int n, int* got, Perf* r) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, p.x.get(), p.w.get(), p.conv.get(), p.y.get(),
                                                  n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Problem& p, const Operands& o, int n, int* got,
                            Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionForwardAlgorithmEx(h, p.x.get(), o.x, p.w.get(), o.w, p.conv.get(),
                                                  p.y.get(), o.y, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Problem& p, const Operands& o, int algo, void* ws,
                           size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionForward(h, alpha, p.x.get(), o.x, p.w.get(), o.w, p.conv.get(),
                                   static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws, bytes, beta,
                                   p.y.get(), o.y);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Problem& p, int algo, size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, p.x.get(), p.w.get(), p.conv.get(), p.y.get(),
                                                   static_cast<cudnnConvolutionFwdAlgo_t>(algo),
                                                   bytes);
  }
};

struct BackwardDataOps {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kPlainAlgo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Problem& p, int n, int* got, Perf* r) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w.get(), p.y.get(), p.conv.get(),
                                                       p.x.get(), n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Problem& p, const Operands& o, int n, int* got,
                            Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardDataAlgorithmEx(
        h, p.w.get(), o.w, p.y.get(), o.y, p.conv.get(), p.x.get(), o.x, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Problem& p, const Operands& o, int algo, void* ws,
                           size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionBackwardData(h, alpha, p.w.get(), o.w, p.y.get(), o.y, p.conv.get(),
                                        static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), ws, bytes,
                                        beta, p.x.get(), o.x);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Problem& p, int algo, size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(
        h, p.w.get(), p.y.get(), p.conv.get(), p.x.get(),
        static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
  }
};

struct BackwardWeightOps {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kPlainAlgo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Problem& p, int n, int* got, Perf* r) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x.get(), p.y.get(), p.conv.get(),
                                                         p.w.get(), n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Problem& p, const Operands& o, int n, int* got,
                            Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardFilterAlgorithmEx(
        h, p.x.get(), o.x, p.y.get(), o.y, p.conv.get(), p.w.get(), o.w, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Problem& p, const Operands& o, int algo, void* ws,
                           size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionBackwardFilter(h, alpha, p.x.get(), o.x, p.y.get(), o.y, p.conv.get(),
                                          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), ws,
                                          bytes, beta, p.w.get(), o.w);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Problem& p, int algo, size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, p.x.get(), p.y.get(), p.conv.get(), p.w.get(),
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
};

// The cached choice for `key`, or a new one: in deterministic mode the first deterministic
// heuristic result that fits the workspace cap (the same in every process); otherwise the
// fastest algorithm cudnnFind*Ex measures within the largest workspace a heuristic result asks
// for (capped), falling back to the heuristics if measuring fails. f32 without TF32 always runs
// with CUDNN_FMA_MATH (cuDNN may report the default math for FMA algorithms); otherwise with the
// math type the result was obtained with.
template <class Ops>
AlgoChoice choose(cudnnHandle_t h, const Problem& pb, const Operands& o, const AlgoKey& key) {
  AlgoChoice c;
  if (cache_lookup(key, &c)) return c;
  const size_t limit = asn::cuda::workspace_limit();
  const int count = std::max(1, Ops::max_count(h));
  std::vector<typename Ops::Perf> heur(static_cast<size_t>(count));
  int got = 0;
  const cudnnStatus_t hst = Ops::heuristics(h, pb, count, &got, heur.data());
  if (not_supported(hst)) {
    cache_store(key, c);  // no algorithm in this layout
    return c;
  }
  ASN_CUDNN_CHECK(hst);
  // ALLOW_CONVERSION would let cuDNN round f32 down to f16/bf16: never wanted.
  auto usable = [&](const typename Ops::Perf& r) {
    return r.status == CUDNN_STATUS_SUCCESS && r.memory <= limit &&
           (!pb.deterministic || r.determinism == CUDNN_DETERMINISTIC) &&
           r.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  };
  auto take_first = [&](const std::vector<typename Ops::Perf>& rs, int n) {
    for (int i = 0; i < n; ++i) {
      const typename Ops::Perf& r = rs[static_cast<size_t>(i)];
      if (!usable(r)) continue;
      c.usable = true;
      c.algo = static_cast<int>(r.algo);
      c.workspace = r.memory;
      c.math = pb.fma_only ? CUDNN_FMA_MATH : r.mathType;
      return;
    }
  };
  if (!pb.deterministic) {
    size_t bytes = 0;
    for (int i = 0; i < got; ++i) {
      const typename Ops::Perf& r = heur[static_cast<size_t>(i)];
      if (r.status == CUDNN_STATUS_SUCCESS && r.memory <= limit) bytes = std::max(bytes, r.memory);
    }
    Tensor ws;
    if (bytes > 0) ws = asn::cuda::workspace(pb.device, bytes);
    std::vector<typename Ops::Perf> found(static_cast<size_t>(count));
    int nfound = 0;
    const cudnnStatus_t fst = Ops::find(h, pb, o, count, &nfound, found.data(),
                                        bytes > 0 ? ws.raw_data() : nullptr, bytes);
    if (fst == CUDNN_STATUS_SUCCESS) take_first(found, nfound);
  }
  if (!c.usable) take_first(heur, got);
  cache_store(key, c);
  return c;
}

// Runs one direction with the chosen algorithm. False when this layout has no usable algorithm
// (remembered), so the caller tries the next layout.
template <class Ops, class T>
bool execute(const Problem& pb, const Operands& o, Direction dir) {
  cudnnHandle_t h = asn::cuda::cudnn_handle(pb.device);
  const AlgoKey key = make_key(pb, dir);
  const AlgoChoice c = choose<Ops>(h, pb, o, key);
  if (!c.usable) return false;
  ASN_CUDNN_CHECK(cudnnSetConvolutionMathType(pb.conv.get(), c.math));
  // The algorithm's own workspace query under the math type it runs with, in case it asks for
  // more than the search reported.
  size_t bytes = c.workspace, queried = 0;
  if (Ops::workspace_size(h, pb, c.algo, &queried) == CUDNN_STATUS_SUCCESS) {
    bytes = std::max(bytes, queried);
  }
  Tensor ws;  // kept alive until the call is queued; the stream orders any reuse after it
  void* ws_ptr = nullptr;
  if (bytes > 0) {
    ws = asn::cuda::workspace(pb.device, bytes);
    ws_ptr = ws.raw_data();
  }
  const T alpha = T(1), beta = T(0);  // beta 0: the output is not read (poison-safe)
  const cudnnStatus_t st = Ops::run(h, pb, o, c.algo, ws_ptr, bytes, &alpha, &beta);
  if (not_supported(st)) {
    cache_store(key, AlgoChoice{});
    return false;
  }
  if (st != CUDNN_STATUS_SUCCESS) {
    ASN_THROW(DeviceError, "conv3d: cuDNN {} (algorithm {}, {} layout) failed: {}",
              direction_name(dir), c.algo,
              pb.layout == Layout::channels_last ? "channels-last" : "channels-first",
              cudnnGetErrorString(st));
  }
  return true;
}

// ---- staging ----

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kAlignment == 0; }

template <class T>
Tensor device_buffer(int64_t numel, int device) {
  return Tensor::empty(Shape{numel}, dtype_of<T>(), Device::cuda(device));
}

template <class T>
T* ptr_or(const Tensor& staged, T* fallback) {
  return staged.defined() ? staged.data<T>() : fallback;
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

// ---- the three directions in one layout ----

template <class T>
bool forward_in(Layout layout, const Geometry& g, const T* x, const T* w, T* y, int device) {
  const Problem pb(g, layout, cudnn_type<T>(), device);
  if (known_unusable(make_key(pb, Direction::forward))) return false;
  const Tensor xs = stage_input<T>(g, layout, x, device);
  const Tensor wst = stage_in<T>(w, g.Cout, g.Cin, g.k, layout, device);
  const Tensor ys = stage_out<T>(y, g.N * g.Cout * volume(g.out), layout, device);
  const Operands o{ptr_or(xs, const_cast<T*>(x)), ptr_or(wst, const_cast<T*>(w)), ptr_or(ys, y)};
  if (!execute<ForwardOps, T>(pb, o, Direction::forward)) return false;
  unstage_out<T>(ys, g.N, g.Cout, g.out, layout, y, device);
  return true;
}

template <class T>
bool backward_data_in(Layout layout, const Geometry& g, const T* dy, const T* w, T* dx,
                      int device) {
  const Problem pb(g, layout, cudnn_type<T>(), device);
  if (known_unusable(make_key(pb, Direction::backward_data))) return false;
  const Tensor dys = stage_in<T>(dy, g.N, g.Cout, g.out, layout, device);
  const Tensor wst = stage_in<T>(w, g.Cout, g.Cin, g.k, layout, device);
  const Tensor dxs = stage_input_grad<T>(g, layout, dx, device);
  const Operands o{ptr_or(dxs, dx), ptr_or(wst, const_cast<T*>(w)),
                   ptr_or(dys, const_cast<T*>(dy))};
  if (!execute<BackwardDataOps, T>(pb, o, Direction::backward_data)) return false;
  unstage_input_grad<T>(g, layout, dxs, dx, device);
  return true;
}

template <class T>
bool backward_weight_in(Layout layout, const Geometry& g, const T* x, const T* dy, T* dw,
                        int device) {
  const Problem pb(g, layout, cudnn_type<T>(), device);
  if (known_unusable(make_key(pb, Direction::backward_weight))) return false;
  const Tensor xs = stage_input<T>(g, layout, x, device);
  const Tensor dys = stage_in<T>(dy, g.N, g.Cout, g.out, layout, device);
  const Tensor dws = stage_out<T>(dw, g.Cout * g.Cin * volume(g.k), layout, device);
  const Operands o{ptr_or(xs, const_cast<T*>(x)), ptr_or(dws, dw), ptr_or(dys, const_cast<T*>(dy))};
  if (!execute<BackwardWeightOps, T>(pb, o, Direction::backward_weight)) return false;
  unstage_out<T>(dws, g.Cout, g.Cin, g.k, layout, dw, device);
  return true;
}

// cuDNN offered no usable channels-last algorithm: the direct kernels compute it (slowly).
void warn_direct_fallback(Direction dir, const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p) {
  if (asn::deterministic()) {
    ASN_LOG_WARN("conv3d: no deterministic cuDNN {} algorithm for input {} kernel {} ({}); using the direct "
                 "kernels", direction_name(dir), x_shape.str(), w_shape.str(), p.str());
  } else {
    ASN_LOG_WARN("conv3d: cuDNN has no channels-last {} algorithm for input {} kernel {} ({}) within the "
                 "workspace limit; using the direct kernels", direction_name(dir), x_shape.str(), w_shape.str(),
                 p.str());
  }
}

void zero(void* p, size_t bytes, int device) {
  if (bytes > 0) ASN_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, asn::cuda::stream(device)));
}

}  // namespace

template <class T>
void conv3d_forward_cuda(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                         const Conv3dParams& p, T* y, int device) {
  const Geometry g = make_geometry(x_shape, w_shape, p);
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
  check_int_limits(g, x_shape, w_shape, p);
  for (Layout layout : layouts_for<T>()) {
    if (forward_in<T>(layout, g, x, w, y, device)) return;
  }
  warn_direct_fallback(Direction::forward, x_shape, w_shape, p);
  conv3d_direct_forward_cuda<T>(x, x_shape, w, w_shape, p, y, device);
}

template <class T>
void conv3d_backward_data_cuda(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                               const Conv3dParams& p, T* dx, int device) {
  const Geometry g = make_geometry(x_shape, w_shape, p);
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
  check_int_limits(g, x_shape, w_shape, p);
  for (Layout layout : layouts_for<T>()) {
    if (backward_data_in<T>(layout, g, dy, w, dx, device)) return;
  }
  warn_direct_fallback(Direction::backward_data, x_shape, w_shape, p);
  conv3d_direct_backward_data_cuda<T>(dy, x_shape, w, w_shape, p, dx, device);
}

template <class T>
void conv3d_backward_weight_cuda(const T* x, const Shape& x_shape, const T* dy,
                                 const Shape& w_shape, const Conv3dParams& p, T* dw, int device) {
  const Geometry g = make_geometry(x_shape, w_shape, p);
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
  check_int_limits(g, x_shape, w_shape, p);
  for (Layout layout : layouts_for<T>()) {
    if (backward_weight_in<T>(layout, g, x, dy, dw, device)) return;
  }
  warn_direct_fallback(Direction::backward_weight, x_shape, w_shape, p);
  conv3d_direct_backward_weight_cuda<T>(x, x_shape, dy, w_shape, p, dw, device);
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
