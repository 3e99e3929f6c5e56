// The CUDA caching allocator (see caching_allocator.h).
#include "engine/cuda/caching_allocator.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"

namespace asn::cuda {

namespace {

constexpr size_t kSmallLimit = 1 << 20;   // 1 MiB
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = 2 << 20;   // 2 MiB

size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes <= kSmallLimit) return ((bytes + kSmallRound - 1) / kSmallRound) * kSmallRound;
  return ((bytes + kLargeRound - 1) / kLargeRound) * kLargeRound;
}

class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.num_allocs;
    void* p = nullptr;
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      p = it->second;
      free_.erase(it);
    } else {
      p = system_alloc(size, bytes);
    }
    live_[p] = block_size_[p];
    stats_.allocated_bytes += static_cast<int64_t>(block_size_[p]);
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes)
      stats_.peak_allocated_bytes = stats_.allocated_bytes;
    return p;
  }

  void deallocate(void* ptr, size_t /*bytes*/) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) {
      ASN_LOG_ERROR("caching allocator: free of unknown pointer {} on cuda:{}", ptr, device_);
      return;
    }
    stats_.allocated_bytes -= static_cast<int64_t>(it->second);
    ++stats_.num_frees;
    free_.emplace(it->second, ptr);
    live_.erase(it);
  }

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak() override {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }
  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached();
  }
  Device device() const override { return Device::cuda(device_); }

 private:
  void* system_alloc(size_t size, size_t requested) {
    set_device(device_);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      throw OutOfMemoryError(fmt::format(
          "CUDA out of memory on cuda:{}: requested {} bytes ({:.1f} MiB) in op '{}'; allocator: {}; "
          "device: {:.1f} MiB free of {:.1f} MiB ({})",
          device_, requested, static_cast<double>(requested) / 1048576.0, current_op_name(),
          stats_.str(), static_cast<double>(free_b) / 1048576.0,
          static_cast<double>(total_b) / 1048576.0, cudaGetErrorString(err)));
    }
    block_size_[p] = size;
    stats_.reserved_bytes += static_cast<int64_t>(size);
    ++stats_.num_system_allocs;
    return p;
  }

  void release_cached() {
    if (free_.empty()) return;
    // Pending work may still read blocks that were freed on the stream: wait for it first.
    ASN_CUDA_CHECK_LOG(cudaStreamSynchronize(stream(device_)));
    for (auto& [size, p] : free_) {
      ASN_CUDA_CHECK_LOG(cudaFree(p));
      block_size_.erase(p);
      stats_.reserved_bytes -= static_cast<int64_t>(size);
    }
    free_.clear();
  }

  int device_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;               // cached blocks by size
  std::unordered_map<void*, size_t> live_;          // handed-out blocks
  std::unordered_map<void*, size_t> block_size_;    // every block we own
  AllocatorStats stats_;
};

}  // namespace

Allocator& caching_allocator(int device) {
  check_device(device);
  static std::array<std::unique_ptr<CachingAllocator>, 16> allocators;
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  auto& slot = allocators[static_cast<size_t>(device)];
  if (!slot) slot = std::make_unique<CachingAllocator>(device);
  return *slot;
}

}  // namespace asn::cuda
