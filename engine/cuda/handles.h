// Per-device library handles, created on first use and bound to the device's main stream:
// cuBLASLt and cuDNN. Workspaces come from the caching allocator (workspace()), so library calls
// never cudaMalloc on their own.
#pragma once

#include <cublasLt.h>
#include <cudnn.h>

#include <cstddef>

#include "engine/tensor.h"

namespace asn::cuda {

cublasLtHandle_t cublaslt_handle(int device);
cudnnHandle_t cudnn_handle(int device);
// A scratch buffer of at least `bytes` on `device` (u8 tensor from the caching allocator); keep the
// returned tensor alive for as long as the work that uses it is queued.
Tensor workspace(int device, size_t bytes);
// The cap on cuDNN/cuBLASLt workspace per call (default 256 MiB; ASN_CUDA_WORKSPACE_MB overrides).
size_t workspace_limit();

}  // namespace asn::cuda
