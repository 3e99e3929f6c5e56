// CPU allocator (64-byte aligned, with statistics) and the per-thread "current op" name.
#include <atomic>
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

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    const size_t rounded = ((bytes + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) {
      throw OutOfMemoryError(fmt::format("CPU out of memory: requested {} bytes in op '{}'; {}", bytes,
                                         current_op_name(), stats().str()));
    }
    const int64_t now = allocated_.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    ++num_allocs_;
    return p;
  }
  void deallocate(void* ptr, size_t bytes) override {
    std::free(ptr);
    allocated_ -= static_cast<int64_t>(bytes);
    ++num_frees_;
  }
  AllocatorStats stats() const override {
    AllocatorStats s;
    s.allocated_bytes = allocated_.load();
    s.reserved_bytes = s.allocated_bytes;
    s.peak_allocated_bytes = peak_.load();
    s.num_allocs = num_allocs_.load();
    s.num_frees = num_frees_.load();
    s.num_system_allocs = s.num_allocs;
    return s;
  }
  void reset_peak() override { peak_ = allocated_.load(); }
  Device device() const override { return Device::cpu(); }

 private:
  std::atomic<int64_t> allocated_{0}, peak_{0}, num_allocs_{0}, num_frees_{0};
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
