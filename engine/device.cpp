// Device names and CUDA availability.
#include "engine/device.h"

#include "engine/error.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn {

std::string Device::str() const { return is_cpu() ? "cpu" : fmt::format("cuda:{}", index); }

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda" || s == "gpu") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      size_t used = 0;
      int i = std::stoi(s.substr(5), &used);
      if (used == s.size() - 5 && i >= 0) return cuda(i);
    } catch (const std::exception&) {
    }
  }
  ASN_THROW(ValueError, "unknown device '{}' (expected cpu, cuda or cuda:N)", s);
}

bool compiled_with_cuda() {
#ifdef ASN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef ASN_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

Device default_device() { return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu(); }

}  // namespace asn
