// conv3d runners on cuDNN's legacy convolution API (see conv3d_cudnn_plan.h): Nd tensor, filter
// and convolution descriptors built once per runner (so a call does no descriptor work, no output
// dimension check and no workspace query), the algorithm chosen once:
//   - not deterministic: the fastest algorithm cudnnFind*Ex measures, with a workspace as large as
//     the largest any algorithm asks for (every algorithm's own workspace query and every heuristic
//     result, capped at the limit), so Find does not pass over a fast algorithm for want of
//     workspace; the heuristics' first usable result if Find fails;
//   - deterministic: the first deterministic result of cudnnGet*_v7 that fits the limit (the same
//     choice in every process).
// ALLOW_CONVERSION results (f32 rounded down to f16/bf16) are never taken. f32 without TF32 runs
// with CUDNN_FMA_MATH whatever math type cuDNN reports for the algorithm.
#ifdef ASN_WITH_CUDA

#include <cudnn.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/error.h"
#include "kernels/conv/conv3d_cudnn_plan.h"

namespace asn::kernels::conv_cuda {

namespace {

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

// The descriptors of one problem (the math type is set again once the algorithm is chosen).
struct Descriptors {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;

  explicit Descriptors(const ProblemSpec& spec) {
    const Geometry& g = spec.g;
    set_tensor(x, spec.dtype, spec.layout, g.N, g.Cin, g.staged);
    set_tensor(y, spec.dtype, spec.layout, g.N, g.Cout, g.out);
    const int wdims[5] = {static_cast<int>(g.Cout), static_cast<int>(g.Cin),
                          static_cast<int>(g.k[0]), static_cast<int>(g.k[1]),
                          static_cast<int>(g.k[2])};
    ASN_CUDNN_CHECK(cudnnSetFilterNdDescriptor(
        w.get(), spec.dtype,
        spec.layout == Layout::channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW, 5, wdims));
    int pad[3], stride[3], dilation[3];
    for (int a = 0; a < 3; ++a) {
      pad[a] = static_cast<int>(g.sym[a]);
      stride[a] = static_cast<int>(g.stride[a]);
      dilation[a] = static_cast<int>(g.dilation[a]);
    }
    ASN_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(conv.get(), 3, pad, stride, dilation,
                                                    CUDNN_CROSS_CORRELATION, spec.dtype));
    ASN_CUDNN_CHECK(cudnnSetConvolutionMathType(
        conv.get(), spec.fma_only ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
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

// ---- the cuDNN entry points of each direction, behind one interface ----

struct ForwardOps {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  using Algo = cudnnConvolutionFwdAlgo_t;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* r) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                  n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n,
                            int* got, Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionForwardAlgorithmEx(h, d.x.get(), o.x, d.w.get(), o.w, d.conv.get(),
                                                  d.y.get(), o.y, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, int algo,
                           void* ws, size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionForward(h, alpha, d.x.get(), o.x, d.w.get(), o.w, d.conv.get(),
                                   static_cast<Algo>(algo), ws, bytes, beta, d.y.get(), o.y);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Descriptors& d, int algo,
                                      size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                   static_cast<Algo>(algo), bytes);
  }
};

struct BackwardDataOps {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* r) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w.get(), d.y.get(), d.conv.get(),
                                                       d.x.get(), n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n,
                            int* got, Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardDataAlgorithmEx(
        h, d.w.get(), o.w, d.y.get(), o.y, d.conv.get(), d.x.get(), o.x, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, int algo,
                           void* ws, size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionBackwardData(h, alpha, d.w.get(), o.w, d.y.get(), o.y, d.conv.get(),
                                        static_cast<Algo>(algo), ws, bytes, beta, d.x.get(), o.x);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Descriptors& d, int algo,
                                      size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(),
                                                        d.x.get(), static_cast<Algo>(algo), bytes);
  }
};

struct BackwardWeightOps {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    ASN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n));
    return n;
  }
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* r) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x.get(), d.y.get(), d.conv.get(),
                                                         d.w.get(), n, got, r);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n,
                            int* got, Perf* r, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardFilterAlgorithmEx(
        h, d.x.get(), o.x, d.y.get(), o.y, d.conv.get(), d.w.get(), o.w, n, got, r, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, int algo,
                           void* ws, size_t bytes, const void* alpha, const void* beta) {
    return cudnnConvolutionBackwardFilter(h, alpha, d.x.get(), o.x, d.y.get(), o.y, d.conv.get(),
                                          static_cast<Algo>(algo), ws, bytes, beta, d.w.get(), o.w);
  }
  static cudnnStatus_t workspace_size(cudnnHandle_t h, const Descriptors& d, int algo,
                                      size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(), static_cast<Algo>(algo), bytes);
  }
};

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH:
      return "default math";
    case CUDNN_TENSOR_OP_MATH:
      return "tensor-op math";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
      return "tensor-op math with conversion";
    case CUDNN_FMA_MATH:
      return "FMA math";
  }
  return "?";
}

template <class Ops>
class LegacyRunner : public CudnnRunner {
 public:
  LegacyRunner(std::unique_ptr<Descriptors> d, cudnnDataType_t dtype, int algo, size_t workspace,
               cudnnMathType_t math, const char* how)
      : d_(std::move(d)),
        dtype_(dtype),
        algo_(algo),
        workspace_(workspace),
        math_(math),
        how_(how) {
    ASN_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv.get(), math_));
  }

  size_t workspace_bytes() const override { return workspace_; }

  cudnnStatus_t run(cudnnHandle_t h, const Operands& o, void* ws) const override {
    if (dtype_ == CUDNN_DATA_DOUBLE) {
      const double alpha = 1, beta = 0;
      return Ops::run(h, *d_, o, algo_, ws, workspace_, &alpha, &beta);
    }
    const float alpha = 1, beta = 0;
    return Ops::run(h, *d_, o, algo_, ws, workspace_, &alpha, &beta);
  }

  std::string name() const override {
    return fmt::format("algo {} ({}, {})", algo_, math_name(math_), how_);
  }

 private:
  std::unique_ptr<Descriptors> d_;
  cudnnDataType_t dtype_;
  int algo_;
  size_t workspace_;
  cudnnMathType_t math_;
  const char* how_;
};

template <class Ops>
std::unique_ptr<CudnnRunner> make_runner(const ProblemSpec& spec, cudnnHandle_t h,
                                         const Operands& o, WorkspaceFn workspace,
                                         std::string* why) {
  auto d = std::make_unique<Descriptors>(spec);
  const size_t limit = spec.workspace_limit;
  const int count = std::max(1, Ops::max_count(h));
  std::vector<typename Ops::Perf> heur(static_cast<size_t>(count));
  int got = 0;
  const cudnnStatus_t hst = Ops::heuristics(h, *d, count, &got, heur.data());
  if (not_supported(hst)) {
    *why = fmt::format("heuristics: {}", cudnnGetErrorString(hst));
    return nullptr;
  }
  ASN_CUDNN_CHECK(hst);
  auto usable = [&](const typename Ops::Perf& r) {
    return r.status == CUDNN_STATUS_SUCCESS && r.memory <= limit &&
           (!spec.deterministic || r.determinism == CUDNN_DETERMINISTIC) &&
           r.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  };
  auto take_first = [&](const std::vector<typename Ops::Perf>& rs, int n,
                        const char* how) -> std::unique_ptr<CudnnRunner> {
    for (int i = 0; i < n; ++i) {
      const typename Ops::Perf& r = rs[static_cast<size_t>(i)];
      if (!usable(r)) continue;
      // The algorithm's own workspace query under the math type it runs with, in case it asks
      // for more than the search reported.
      const cudnnMathType_t math = spec.fma_only ? CUDNN_FMA_MATH : r.mathType;
      ASN_CUDNN_CHECK(cudnnSetConvolutionMathType(d->conv.get(), math));
      size_t bytes = r.memory, queried = 0;
      if (Ops::workspace_size(h, *d, static_cast<int>(r.algo), &queried) == CUDNN_STATUS_SUCCESS) {
        bytes = std::max(bytes, queried);
      }
      if (bytes > limit) continue;
      return std::make_unique<LegacyRunner<Ops>>(std::move(d), spec.dtype, static_cast<int>(r.algo),
                                                 bytes, math, how);
    }
    return nullptr;
  };
  if (!spec.deterministic) {
    // The workspace Find measures with: the most any algorithm asks for, within the limit.
    size_t bytes = 0;
    for (int i = 0; i < got; ++i) {
      const typename Ops::Perf& r = heur[static_cast<size_t>(i)];
      if (r.status == CUDNN_STATUS_SUCCESS && r.memory <= limit) bytes = std::max(bytes, r.memory);
    }
    for (int algo = 0; algo < count; ++algo) {
      size_t b = 0;
      if (Ops::workspace_size(h, *d, algo, &b) == CUDNN_STATUS_SUCCESS && b <= limit) {
        bytes = std::max(bytes, b);
      }
    }
    void* ws = bytes > 0 ? workspace(spec.device, bytes) : nullptr;
    std::vector<typename Ops::Perf> found(static_cast<size_t>(count));
    int nfound = 0;
    const cudnnStatus_t fst = Ops::find(h, *d, o, count, &nfound, found.data(), ws, bytes);
    if (fst == CUDNN_STATUS_SUCCESS) {
      std::unique_ptr<CudnnRunner> r = take_first(found, nfound, "Find");
      if (r) return r;
    }
  }
  std::unique_ptr<CudnnRunner> r =
      take_first(heur, got, spec.deterministic ? "deterministic heuristics" : "heuristics");
  if (!r) {
    *why = fmt::format("no usable algorithm among {} heuristic results", got);
  }
  return r;
}

}  // namespace

std::unique_ptr<CudnnRunner> make_legacy_runner(const ProblemSpec& spec, cudnnHandle_t h,
                                                const Operands& o, WorkspaceFn workspace,
                                                std::string* why) {
  switch (spec.dir) {
    case Direction::forward:
      return make_runner<ForwardOps>(spec, h, o, workspace, why);
    case Direction::backward_data:
      return make_runner<BackwardDataOps>(spec, h, o, workspace, why);
    case Direction::backward_weight:
      return make_runner<BackwardWeightOps>(spec, h, o, workspace, why);
  }
  *why = "unknown direction";
  return nullptr;
}

}  // namespace asn::kernels::conv_cuda

#endif  // ASN_WITH_CUDA
