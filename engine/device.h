// Where a tensor lives: the CPU or one CUDA device.
#pragma once

#include <cstdint>
#include <string>

namespace asn {

struct Device {
  enum class Kind : uint8_t { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  static Device cpu() { return Device{Kind::CPU, 0}; }
  static Device cuda(int i = 0) { return Device{Kind::CUDA, i}; }
  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  // "cpu" or "cuda:0".
  std::string str() const;
  // Parses "cpu", "cuda", "cuda:1", "gpu".
  static Device parse(const std::string& s);
};

// True when the engine was compiled with CUDA support (ASN_WITH_CUDA).
bool compiled_with_cuda();
// Number of usable CUDA devices; 0 when compiled without CUDA or when no GPU/driver is present.
int cuda_device_count();
// The best default device: cuda:0 if a GPU is present, else cpu.
Device default_device();

}  // namespace asn
