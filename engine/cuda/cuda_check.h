// Check macros for CUDA, cuDNN, cuBLAS and NCCL calls. Each throws asn::DeviceError carrying the
// failed statement, the library's own error string, and the check site.
// ASN_CUDA_CHECK_LOG logs instead of throwing, for destructors.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/error.h"
#include "engine/log.h"

#define ASN_CUDA_CHECK(expr)                                                                   \
  do {                                                                                         \
    cudaError_t asn_err_ = (expr);                                                             \
    if (asn_err_ != cudaSuccess) {                                                             \
      ASN_THROW(::asn::DeviceError, "CUDA error {} ({}) in `{}`", cudaGetErrorName(asn_err_),  \
                cudaGetErrorString(asn_err_), #expr);                                          \
    }                                                                                          \
  } while (0)

#define ASN_CUDA_CHECK_LOG(expr)                                                               \
  do {                                                                                         \
    cudaError_t asn_err_ = (expr);                                                             \
    if (asn_err_ != cudaSuccess) {                                                             \
      ASN_LOG_ERROR("CUDA error {} ({}) in `{}` at {}:{}", cudaGetErrorName(asn_err_),         \
                    cudaGetErrorString(asn_err_), #expr, __FILE__, __LINE__);                  \
    }                                                                                          \
  } while (0)

// After a kernel launch: reports launch errors with the op's name.
#define ASN_KERNEL_CHECK(op_name)                                                              \
  do {                                                                                         \
    cudaError_t asn_err_ = cudaGetLastError();                                                 \
    if (asn_err_ != cudaSuccess) {                                                             \
      ASN_THROW(::asn::DeviceError, "CUDA kernel launch failed in {}: {} ({})", op_name,       \
                cudaGetErrorName(asn_err_), cudaGetErrorString(asn_err_));                     \
    }                                                                                          \
    ::asn::cuda::sync_check_if_enabled(op_name);                                               \
  } while (0)

#define ASN_CUDNN_CHECK(expr)                                                                  \
  do {                                                                                         \
    cudnnStatus_t asn_st_ = (expr);                                                            \
    if (asn_st_ != CUDNN_STATUS_SUCCESS) {                                                     \
      ASN_THROW(::asn::DeviceError, "cuDNN error {} in `{}`", cudnnGetErrorString(asn_st_),    \
                #expr);                                                                        \
    }                                                                                          \
  } while (0)

#define ASN_CUBLAS_CHECK(expr)                                                                 \
  do {                                                                                         \
    cublasStatus_t asn_st_ = (expr);                                                           \
    if (asn_st_ != CUBLAS_STATUS_SUCCESS) {                                                    \
      ASN_THROW(::asn::DeviceError, "cuBLAS error {} ({}) in `{}`", cublasGetStatusName(asn_st_), \
                cublasGetStatusString(asn_st_), #expr);                                        \
    }                                                                                          \
  } while (0)

#define ASN_NCCL_CHECK(expr)                                                                   \
  do {                                                                                         \
    ncclResult_t asn_st_ = (expr);                                                             \
    if (asn_st_ != ncclSuccess) {                                                              \
      ASN_THROW(::asn::DeviceError, "NCCL error {} in `{}`", ncclGetErrorString(asn_st_), #expr); \
    }                                                                                          \
  } while (0)

namespace asn::cuda {
// When ASN_SYNC_CHECK=1 is set in the environment, synchronises after every kernel so an
// asynchronous fault is reported by the op that caused it.
void sync_check_if_enabled(const char* op_name);
}  // namespace asn::cuda
