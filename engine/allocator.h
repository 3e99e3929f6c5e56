// Allocators: where tensor storage comes from.
//
// The CPU allocator hands out 64-byte aligned blocks. The CUDA caching allocator
// (engine/cuda/caching_allocator.cpp) keeps freed device blocks for reuse, because cudaMalloc and
// cudaFree synchronise the device. Both keep statistics: bytes in use ("allocated"), bytes held
// from the system ("reserved"), and the peak of allocated bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/device.h"

namespace asn {

struct AllocatorStats {
  int64_t allocated_bytes = 0;       // bytes currently handed out to tensors
  int64_t reserved_bytes = 0;        // bytes obtained from the system (>= allocated)
  int64_t peak_allocated_bytes = 0;  // high-water mark of allocated_bytes since the last reset
  int64_t num_allocs = 0;            // allocate() calls
  int64_t num_frees = 0;             // deallocate() calls
  int64_t num_system_allocs = 0;     // malloc / cudaMalloc calls (cache misses on CUDA)
  std::string str() const;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns a block of at least `bytes` bytes (bytes may be 0: returns a valid unique pointer).
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  // Returns cached-but-unused memory to the system (no-op on the CPU).
  virtual void empty_cache() {}
  virtual Device device() const = 0;
};

// The allocator for a device; throws DeviceError for CUDA when built without CUDA.
Allocator& allocator_for(Device d);
Allocator& cpu_allocator();

// Names the op currently running on this thread, so an out-of-memory error can say which op asked.
// Set by the autograd glue with OpScope; empty outside any op.
const char* current_op_name();
class OpScope {
 public:
  explicit OpScope(const char* name);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  const char* previous_;
};

}  // namespace asn
