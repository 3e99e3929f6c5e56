// CUDA dense layer (see dense.h): cuBLASLt GEMMs, the bias through the BIAS epilogue, db through
// the deterministic sum kernel.
//
// cuBLASLt is column-major; a row-major (R, C) matrix is the column-major (C, R) matrix with
// leading dimension C, i.e. its transpose. So, with every operand read in place:
//   y  (M, Cout) = x w^T   <=>  y^T  (Cout, M)  = (w^T)^T x^T : A = w as (Cin, Cout), op T;
//                                                              B = x as (Cin, M), op N
//   dx (M, Cin)  = gy w    <=>  dx^T (Cin, M)   = w^T gy^T    : A = w as (Cin, Cout), op N;
//                                                              B = gy as (Cout, M), op N
//   dw (Cout, Cin) = gy^T x <=> dw^T (Cin, Cout) = x^T gy     : A = x as (Cin, M), op N;
//                                                              B = gy as (Cout, M), op T
// The epilogue adds a bias per row of the column-major result, i.e. per Cout.
//
// The algorithm for a problem comes from cublasLtMatmulAlgoGetHeuristic with preferences that state
// the operands' real alignments (weights are views into the flat parameter buffer at any offset)
// and is cached per problem; the workspace comes from the caching allocator.
#include <cublasLt.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/cuda/handles.h"
#include "engine/runtime_flags.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/dense/dense.h"
#include "kernels/reduce/reduce_plan.h"
#include "kernels/reduce/sum.h"

namespace asn::kernels {

namespace {

constexpr size_t kMaxWorkspace = size_t{32} << 20;  // cap offered to the heuristic

// y[m, c] = b[c] (or 0 without a bias): the start of a bias-without-epilogue GEMM, and the whole
// result when Cin == 0.
template <class T>
__global__ void broadcast_bias_kernel(const T* __restrict__ b, int64_t rows, int64_t cols,
                                      T* __restrict__ y) {
  ASN_GRID_STRIDE_LOOP(i, rows * cols) y[i] = b != nullptr ? b[i % cols] : T(0);
}

template <class T>
void broadcast_bias(const T* b, int64_t rows, int64_t cols, T* y, int device) {
  if (rows * cols == 0) return;
  broadcast_bias_kernel<T>
      <<<cuda::grid_1d(rows * cols), cuda::kBlock, 0, asn::cuda::stream(device)>>>(b, rows, cols,
                                                                                   y);
  ASN_KERNEL_CHECK("dense");
}

// Largest power of two up to 256 dividing the address (the heuristic's alignment preferences).
uint32_t alignment_of(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && a % al != 0) al >>= 1;
  return al;
}

// Owns the cuBLASLt descriptors of one call.
struct LtDescriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  LtDescriptors() = default;
  LtDescriptors(const LtDescriptors&) = delete;
  LtDescriptors& operator=(const LtDescriptors&) = delete;
  ~LtDescriptors() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

struct CachedAlgo {
  bool ok;  // false: the heuristic found nothing (only remembered for bias-epilogue problems)
  cublasLtMatmulAlgo_t algo;
  size_t workspace;
};

// Everything the heuristic's answer depends on.
using AlgoKey = std::array<int64_t, 17>;

std::mutex g_algo_mutex;
std::map<AlgoKey, CachedAlgo>& algo_cache() {
  static std::map<AlgoKey, CachedAlgo> cache;
  return cache;
}

template <class T>
struct LtTypes;
template <>
struct LtTypes<float> {
  static constexpr cudaDataType_t data = CUDA_R_32F;
  static cublasComputeType_t compute() {
    return allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  }
};
template <>
struct LtTypes<double> {
  static constexpr cudaDataType_t data = CUDA_R_64F;
  static cublasComputeType_t compute() { return CUBLAS_COMPUTE_64F; }
};

// Column-major D (m, n) = op(A) op(B) + beta * D (+ bias (m,) when given), on device's stream.
// A is stored (trans_a ? k x m : m x k) with leading dimension lda; B (trans_b ? n x k : k x n).
// Returns false (nothing launched) when a bias was asked for and no algorithm supports the
// epilogue for this problem; throws when no algorithm exists at all.
template <class T>
bool lt_gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* A,
             int64_t lda, const T* B, int64_t ldb, T beta, T* D, int64_t ldd, const T* bias) {
  const cudaDataType_t dt = LtTypes<T>::data;
  const cublasComputeType_t compute = LtTypes<T>::compute();
  const cudaDataType_t scale_type = dt;  // f32 (also with TF32) or f64 scalars
  LtDescriptors ds;
  ASN_CUBLAS_CHECK(cublasLtMatmulDescCreate(&ds.op, compute, scale_type));
  const int32_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int32_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  ASN_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
  ASN_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
  if (bias != nullptr) {
    const uint32_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const int32_t bias_type = dt;
    ASN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                    sizeof(epilogue)));
    ASN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                    sizeof(bias)));
    ASN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                    &bias_type, sizeof(bias_type)));
  }
  ASN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&ds.a, dt, static_cast<uint64_t>(trans_a ? k : m),
                                              static_cast<uint64_t>(trans_a ? m : k), lda));
  ASN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&ds.b, dt, static_cast<uint64_t>(trans_b ? n : k),
                                              static_cast<uint64_t>(trans_b ? k : n), ldb));
  ASN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&ds.d, dt, static_cast<uint64_t>(m),
                                              static_cast<uint64_t>(n), ldd));

  const uint32_t al_a = alignment_of(A), al_b = alignment_of(B), al_d = alignment_of(D);
  const uint32_t al_bias = bias != nullptr ? alignment_of(bias) : 0;
  const AlgoKey key{device,
                    static_cast<int64_t>(dt),
                    static_cast<int64_t>(compute),
                    trans_a,
                    trans_b,
                    m,
                    n,
                    k,
                    lda,
                    ldb,
                    ldd,
                    beta != T(0),
                    bias != nullptr,
                    al_a,
                    al_b,
                    al_d,
                    al_bias};
  CachedAlgo chosen{};
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(g_algo_mutex);
    auto it = algo_cache().find(key);
    if (it != algo_cache().end()) {
      chosen = it->second;
      found = true;
    }
  }
  cublasLtHandle_t handle = asn::cuda::cublaslt_handle(device);
  if (!found) {
    ASN_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&ds.pref));
    const uint64_t max_ws = std::min(kMaxWorkspace, asn::cuda::workspace_limit());
    ASN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
        ds.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof(max_ws)));
    const cublasLtMatmulPreferenceAttributes_t al_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    const uint32_t al_val[4] = {al_a, al_b, al_d, al_d};
    for (int i = 0; i < 4; ++i) {
      ASN_CUBLAS_CHECK(
          cublasLtMatmulPreferenceSetAttribute(ds.pref, al_attr[i], &al_val[i], sizeof(al_val[i])));
    }
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle, ds.op, ds.a, ds.b, ds.d, ds.d,
                                                             ds.pref, 1, &result, &count);
    if (st != CUBLAS_STATUS_NOT_SUPPORTED) ASN_CUBLAS_CHECK(st);
    if (st == CUBLAS_STATUS_NOT_SUPPORTED || count == 0) {
      if (bias != nullptr) {
        std::lock_guard<std::mutex> lock(g_algo_mutex);
        algo_cache()[key] = CachedAlgo{false, {}, 0};
        return false;
      }
      ASN_THROW(DeviceError,
                "dense: cuBLASLt has no algorithm for a {} GEMM m={} n={} k={} (op A {}, op B {}, "
                "alignments {}/{}/{} bytes)",
                dt == CUDA_R_32F ? "f32" : "f64", m, n, k, trans_a ? "T" : "N", trans_b ? "T" : "N",
                al_a, al_b, al_d);
    }
    chosen = CachedAlgo{true, result.algo, result.workspaceSize};
    std::lock_guard<std::mutex> lock(g_algo_mutex);
    algo_cache()[key] = chosen;
  }
  if (!chosen.ok) return false;
  // Kept alive until the GEMM is queued; the stream orders any reuse of the block after it.
  Tensor ws;
  void* ws_ptr = nullptr;
  if (chosen.workspace > 0) {
    ws = asn::cuda::workspace(device, chosen.workspace);
    ws_ptr = ws.raw_data();
  }
  const T alpha = T(1);
  ASN_CUBLAS_CHECK(cublasLtMatmul(handle, ds.op, &alpha, A, ds.a, B, ds.b, &beta, D, ds.d, D, ds.d,
                                  &chosen.algo, ws_ptr, chosen.workspace,
                                  asn::cuda::stream(device)));
  return true;
}

}  // namespace

template <class T>
void dense_forward_cuda(const T* x, const T* w, const T* b, int64_t M, int64_t Cin, int64_t Cout,
                        T* y, int device) {
  if (M == 0 || Cout == 0) return;
  asn::cuda::set_device(device);
  if (Cin == 0) {  // no GEMM: y is the bias (or zeros)
    broadcast_bias<T>(b, M, Cout, y, device);
    return;
  }
  if (b != nullptr &&
      lt_gemm<T>(device, true, false, Cout, M, Cin, w, Cin, x, Cin, T(0), y, Cout, b)) {
    return;
  }
  // No bias, or no algorithm with the bias epilogue: rows start as the bias, the GEMM adds on.
  if (b != nullptr) broadcast_bias<T>(b, M, Cout, y, device);
  lt_gemm<T>(device, true, false, Cout, M, Cin, w, Cin, x, Cin, b != nullptr ? T(1) : T(0), y, Cout,
             nullptr);
}

template <class T>
void dense_backward_cuda(const T* gy, const T* x, const T* w, int64_t M, int64_t Cin, int64_t Cout,
                         T* gx, T* gw, T* gb, int device) {
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  if (gx != nullptr && M * Cin > 0) {
    if (Cout > 0) {
      lt_gemm<T>(device, false, false, Cin, M, Cout, w, Cin, gy, Cout, T(0), gx, Cin, nullptr);
    } else {
      ASN_CUDA_CHECK(cudaMemsetAsync(gx, 0, static_cast<size_t>(M * Cin) * sizeof(T), s));
    }
  }
  if (gw != nullptr && Cout * Cin > 0) {
    if (M > 0) {
      lt_gemm<T>(device, false, true, Cin, Cout, M, x, Cin, gy, Cout, T(0), gw, Cin, nullptr);
    } else {
      ASN_CUDA_CHECK(cudaMemsetAsync(gw, 0, static_cast<size_t>(Cout * Cin) * sizeof(T), s));
    }
  }
  if (gb != nullptr && Cout > 0) {
    if (M > 0) {
      // Column sums of gy (M, Cout): sum over axis 0, in double, fixed order.
      const ReducePlan plan = make_reduce_plan(Shape{M, Cout}, {true, false});
      sum_forward_cuda<T>(gy, plan, 1.0, gb, device);
    } else {
      ASN_CUDA_CHECK(cudaMemsetAsync(gb, 0, static_cast<size_t>(Cout) * sizeof(T), s));
    }
  }
}

template void dense_forward_cuda<float>(const float*, const float*, const float*, int64_t, int64_t,
                                        int64_t, float*, int);
template void dense_forward_cuda<double>(const double*, const double*, const double*, int64_t,
                                         int64_t, int64_t, double*, int);
template void dense_backward_cuda<float>(const float*, const float*, const float*, int64_t, int64_t,
                                         int64_t, float*, float*, float*, int);
template void dense_backward_cuda<double>(const double*, const double*, const double*, int64_t,
                                          int64_t, int64_t, double*, double*, double*, int);

}  // namespace asn::kernels
