// Device queries, per-device streams and copies (see cuda_runtime.h).
#include "engine/cuda/cuda_runtime.h"

#include <array>
#include <cstdlib>
#include <mutex>

#include "engine/cuda/cuda_check.h"

namespace asn::cuda {

namespace {
constexpr int kMaxDevices = 16;
std::mutex g_mutex;
std::array<cudaStream_t, kMaxDevices> g_main{};
std::array<cudaStream_t, kMaxDevices> g_side{};
std::array<cudaDeviceProp, kMaxDevices> g_props{};
std::array<bool, kMaxDevices> g_have_props{};

cudaStream_t make_stream(int index, std::array<cudaStream_t, kMaxDevices>& slot) {
  check_device(index);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!slot[static_cast<size_t>(index)]) {
    int prev = 0;
    ASN_CUDA_CHECK(cudaGetDevice(&prev));
    ASN_CUDA_CHECK(cudaSetDevice(index));
    cudaStream_t s = nullptr;
    ASN_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    ASN_CUDA_CHECK(cudaSetDevice(prev));
    slot[static_cast<size_t>(index)] = s;
  }
  return slot[static_cast<size_t>(index)];
}
}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device / no driver" error
      return 0;
    }
    return n < kMaxDevices ? n : kMaxDevices;
  }();
  return count;
}

void check_device(int index) {
  const int n = device_count();
  if (index < 0 || index >= n) {
    ASN_THROW(DeviceError, "CUDA device {} requested but {} device(s) are available", index, n);
  }
}

void set_device(int index) {
  check_device(index);
  ASN_CUDA_CHECK(cudaSetDevice(index));
}

cudaStream_t stream(int index) { return make_stream(index, g_main); }
cudaStream_t side_stream(int index) { return make_stream(index, g_side); }

void synchronize(int index) {
  ASN_CUDA_CHECK(cudaStreamSynchronize(stream(index)));
  ASN_CUDA_CHECK(cudaStreamSynchronize(side_stream(index)));
}

void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_dev.is_cuda() && src_dev.is_cuda()) {
    cudaStream_t s = stream(dst_dev.index);
    if (dst_dev.index == src_dev.index) {
      ASN_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s));
    } else {
      // The source must be ready: its producer ran on the source device's stream.
      ASN_CUDA_CHECK(cudaStreamSynchronize(stream(src_dev.index)));
      ASN_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_dev.index, src, src_dev.index, nbytes, s));
    }
  } else if (dst_dev.is_cuda()) {
    // Host to device: synchronous with respect to the host buffer (it may be freed right after).
    cudaStream_t s = stream(dst_dev.index);
    ASN_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
    ASN_CUDA_CHECK(cudaStreamSynchronize(s));
  } else {
    cudaStream_t s = stream(src_dev.index);
    ASN_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
    ASN_CUDA_CHECK(cudaStreamSynchronize(s));
  }
}

void memset_zero(void* ptr, size_t nbytes, int device) {
  ASN_CUDA_CHECK(cudaMemsetAsync(ptr, 0, nbytes, stream(device)));
}

const char* device_name(int index) {
  check_device(index);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_have_props[static_cast<size_t>(index)]) {
    ASN_CUDA_CHECK(cudaGetDeviceProperties(&g_props[static_cast<size_t>(index)], index));
    g_have_props[static_cast<size_t>(index)] = true;
  }
  return g_props[static_cast<size_t>(index)].name;
}

void sync_check_if_enabled(const char* op_name) {
  static const bool enabled = [] {
    const char* v = std::getenv("ASN_SYNC_CHECK");
    return v && v[0] == '1';
  }();
  if (!enabled) return;
  cudaError_t err = cudaDeviceSynchronize();
  if (err != cudaSuccess) {
    ASN_THROW(DeviceError, "CUDA error after {}: {} ({})", op_name, cudaGetErrorName(err),
              cudaGetErrorString(err));
  }
}

}  // namespace asn::cuda
