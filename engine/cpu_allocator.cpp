// CPU allocator (64-byte aligned, with statistics) and the per-thread "current op" name.
#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <cstdlib>
#include <new>

#include "engine/allocator.h"
#include "engine/error.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/caching_allocator.h"
#endif

namespace asn {

std::string AllocatorStats::str() const {
  auto mib = [](int64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); };
  return fmt::format("allocated {:.1f} MiB, reserved {:.1f} MiB, peak {:.1f} MiB, {} allocs, {} frees",
                     mib(allocated_bytes), mib(reserved_bytes), mib(peak_allocated_bytes), num_allocs,
                     num_frees);
}

namespace {

// Small blocks come straight from aligned_alloc. Large ones (>= 256 KiB, rounded up to 64 KiB) are
// kept in a free list when released and handed out again for a request of the same rounded size or
// up to twice smaller: the steady state of a training step then never returns pages to the system
// and faults them in again (glibc unmaps large blocks on free, which cost more than the ops did).
class CpuAllocator final : public Allocator {
 public:
  static constexpr size_t kLargeLimit = 256 << 10;
  static constexpr size_t kLargeRound = 64 << 10;

  void* allocate(size_t bytes) override {
    const size_t size = block_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* p = nullptr;
    if (size >= kLargeLimit) {
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= 2 * size) {
        p = it->second;
        sizes_[p] = it->first;
        free_.erase(it);
      }
    }
    if (!p) {
      p = std::aligned_alloc(64, size);
      if (!p) {
        throw OutOfMemoryError(fmt::format("CPU out of memory: requested {} bytes in op '{}'; {}", bytes,
                                           current_op_name(), stats_.str()));
      }
      sizes_[p] = size;
      stats_.reserved_bytes += static_cast<int64_t>(size);
      ++stats_.num_system_allocs;
    }
    stats_.allocated_bytes += static_cast<int64_t>(sizes_[p]);
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    ++stats_.num_allocs;
    return p;
  }
  void deallocate(void* ptr, size_t /*bytes*/) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(ptr);
    if (it == sizes_.end()) return;
    const size_t size = it->second;
    stats_.allocated_bytes -= static_cast<int64_t>(size);
    ++stats_.num_frees;
    if (size >= kLargeLimit) {
      free_.emplace(size, ptr);
    } else {
      std::free(ptr);
      stats_.reserved_bytes -= static_cast<int64_t>(size);
    }
    sizes_.erase(it);
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
    for (auto& [size, p] : free_) {
      std::free(p);
      stats_.reserved_bytes -= static_cast<int64_t>(size);
    }
    free_.clear();
  }
  Device device() const override { return Device::cpu(); }

 private:
  static size_t block_size(size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes < kLargeLimit) return ((bytes + 63) / 64) * 64;
    return ((bytes + kLargeRound - 1) / kLargeRound) * kLargeRound;
  }

  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;         // cached large blocks by size
  std::unordered_map<void*, size_t> sizes_;   // live blocks
  AllocatorStats stats_;
};

thread_local const char* t_current_op = "";

}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator a;
  return a;
}

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator();
#ifdef ASN_WITH_CUDA
  return cuda::caching_allocator(d.index);
#else
  ASN_THROW(DeviceError, "device {} requested but this build has no CUDA support", d.str());
#endif
}

const char* current_op_name() { return t_current_op; }
OpScope::OpScope(const char* name) : previous_(t_current_op) { t_current_op = name; }
OpScope::~OpScope() { t_current_op = previous_; }

}  // namespace asn
