// Storage: a reference-counted block of bytes on one device, freed through its allocator.
// Tensors share storages; views are (storage, offset, shape).
#pragma once

#include <cstddef>
#include <memory>

#include "engine/allocator.h"
#include "engine/device.h"

namespace asn {

class Storage {
 public:
  // Allocates `nbytes` on `device` from allocator_for(device).
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;
};

}  // namespace asn
