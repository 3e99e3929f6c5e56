// Library handles per device (see handles.h).
#include "engine/cuda/handles.h"

#include <array>
#include <cstdlib>
#include <mutex>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"

namespace asn::cuda {

namespace {
std::mutex g_mutex;
std::array<cublasLtHandle_t, 16> g_lt{};
std::array<cudnnHandle_t, 16> g_dnn{};
}  // namespace

cublasLtHandle_t cublaslt_handle(int device) {
  check_device(device);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& h = g_lt[static_cast<size_t>(device)];
  if (!h) {
    set_device(device);
    ASN_CUBLAS_CHECK(cublasLtCreate(&h));
  }
  return h;
}

cudnnHandle_t cudnn_handle(int device) {
  check_device(device);
  cudaStream_t s = stream(device);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& h = g_dnn[static_cast<size_t>(device)];
  if (!h) {
    set_device(device);
    ASN_CUDNN_CHECK(cudnnCreate(&h));
    ASN_CUDNN_CHECK(cudnnSetStream(h, s));
  }
  return h;
}

Tensor workspace(int device, size_t bytes) {
  return Tensor::empty(Shape{static_cast<int64_t>(bytes == 0 ? 1 : bytes)}, DType::u8, Device::cuda(device));
}

size_t workspace_limit() {
  static const size_t limit = [] {
    const char* v = std::getenv("ASN_CUDA_WORKSPACE_MB");
    const long mb = v ? std::atol(v) : 256;
    return static_cast<size_t>(mb > 0 ? mb : 256) << 20;
  }();
  return limit;
}

}  // namespace asn::cuda
