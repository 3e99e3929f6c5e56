// Internal to the CUDA conv3d (conv3d_cudnn*.cpp): the geometry of one convolution as cuDNN sees
// it, and the "runners" that execute one direction of it through cuDNN. conv3d_cudnn.cpp picks a
// runner per problem (measured, or by fixed preference in deterministic mode), caches it, and
// stages the operands around it.
//
// A cuDNN call sees
//   x  (N, Cin, D0, D1, D2)     the input, already padded by the explicit (asymmetric) part
//   w  (Cout, Cin, k0, k1, k2)  memory (Cout, k0, k1, k2, Cin) in the channels-last layout,
//                               (Cout, Cin, k0, k1, k2) in the channels-first one
//   y  (N, Cout, O0, O1, O2)
// with the strides of our channels-last memory (N, D0, D1, D2, C), or of packed channels-first
// (N, C, D0, D1, D2) copies. cuDNN pads every axis symmetrically by sym = min(before, after,
// extent - 1); the remainder (before - sym, after - sym) is padded explicitly into a copy of x.
// The output length is the same: (n + eb + ea + 2 sym - extent) / s + 1.
//
// Two cuDNN APIs provide runners:
//   legacy  cudnnConvolution{Forward,BackwardData,BackwardFilter} with an algorithm enum
//           (conv3d_cudnn_legacy.cpp): descriptors built once per runner; the algorithm from
//           cudnnFind*Ex (measured) or, in deterministic mode, the first deterministic result of
//           cudnnGet*_v7 (the same in every process).
//   graph   the backend (graph) API (conv3d_cudnn_graph.cpp): one operation graph per problem,
//           engine configurations from heuristics mode A, one finalized execution plan per
//           runner, executed with cudnnBackendExecute (what PyTorch's cudnn.benchmark uses).
// Every operand pointer a runner sees is 16-byte aligned (conv3d_cudnn.cpp stages the others).
#pragma once

#ifdef ASN_WITH_CUDA

#include <cudnn.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/conv/conv3d.h"

namespace asn::kernels::conv_cuda {

enum class Layout { channels_last = 0, channels_first = 1 };
enum class Direction { forward = 0, backward_data = 1, backward_weight = 2 };

const char* direction_name(Direction d);
const char* layout_name(Layout l);

inline int64_t volume(const Dims3& d) { return d[0] * d[1] * d[2]; }

struct Geometry {
  int64_t N = 0, Cin = 0, Cout = 0;
  Dims3 in{}, k{}, out{};  // input, kernel and output sizes along (T, H, W)
  Dims3 stride{}, dilation{};
  Dims3 sym{};                          // symmetric pad handed to cuDNN
  Dims3 extra_before{}, extra_after{};  // explicit padding of the staged input
  Dims3 staged{};                       // input sizes after the explicit padding

  bool padded() const;
  // A 1x1x1 kernel, stride 1, no padding: a GEMM over (N*T*H*W, C) rows.
  bool pointwise(const Conv3dParams& p) const;
};

// Checks the shapes and parameters (conv3d errors) and splits the padding.
Geometry make_geometry(const Shape& x_shape, const Shape& w_shape, const Conv3dParams& p);

// One direction of one convolution in one layout, and the switches it runs under.
struct ProblemSpec {
  Geometry g;
  Layout layout = Layout::channels_last;
  Direction dir = Direction::forward;
  cudnnDataType_t dtype = CUDNN_DATA_FLOAT;
  int device = 0;
  bool deterministic = false;  // only bitwise-reproducible algorithms / engines
  bool fma_only = true;        // f32 without TF32: no tensor-core algorithms / engines
  size_t workspace_limit = 0;  // bytes
};

// Device pointers of one call as cuDNN sees them: x (or dx), w (or dw), y (or dy).
struct Operands {
  void* x = nullptr;
  void* w = nullptr;
  void* y = nullptr;
};

// One way of running one ProblemSpec. run() queues the work on the handle's stream; alpha 1,
// beta 0 (the output is overwritten, never read).
class CudnnRunner {
 public:
  virtual ~CudnnRunner() = default;
  virtual size_t workspace_bytes() const = 0;
  virtual cudnnStatus_t run(cudnnHandle_t h, const Operands& o, void* workspace) const = 0;
  // "algo 1 (FMA math, Find)" / "engine 12": for logs and error messages.
  virtual std::string name() const = 0;
};

bool not_supported(cudnnStatus_t st);

// ---- legacy API (conv3d_cudnn_legacy.cpp) ----

// The legacy runner for `spec`, or null with *why set when cuDNN offers no usable algorithm.
// Without deterministic mode cudnnFind*Ex measures the algorithms on the operands `o` (outputs
// are overwritten) with a workspace of up to spec.workspace_limit bytes from `workspace(bytes)`;
// deterministic mode takes the first deterministic heuristic result and never touches `o`.
using WorkspaceFn = void* (*)(int device, size_t bytes);
std::unique_ptr<CudnnRunner> make_legacy_runner(const ProblemSpec& spec, cudnnHandle_t h,
                                                const Operands& o, WorkspaceFn workspace,
                                                std::string* why);

// ---- graph API (conv3d_cudnn_graph.cpp) ----

// Up to `max_count` graph runners for `spec` in cuDNN's heuristic order (mode A), each an
// execution plan that finalized and fits the workspace limit. Engines are skipped when they use
// tensor cores and spec.fma_only, down-convert inputs or reduce in lower precision, are
// non-deterministic in deterministic mode, or need runtime compilation (seconds per shape).
// Empty with *why set when no engine qualifies; never throws for cuDNN refusals.
std::vector<std::unique_ptr<CudnnRunner>> make_graph_runners(const ProblemSpec& spec,
                                                             cudnnHandle_t h, int max_count,
                                                             std::string* why);

}  // namespace asn::kernels::conv_cuda

#endif  // ASN_WITH_CUDA
