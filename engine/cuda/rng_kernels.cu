// CUDA side of the Generator fills (see rng_kernels.h and engine/rng_math.h).
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/cuda/rng_kernels.h"
#include "engine/rng_math.h"

namespace asn::cuda {

namespace {

template <class T>
__global__ void random_fill_kernel(T* p, int64_t n, RandomKind kind, uint64_t seed, uint64_t offset,
                                   double a, double b) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint64_t k = static_cast<uint64_t>(i);
    double v;
    if (kind == RandomKind::kUniform) {
      v = philox_uniform_range(seed, offset, k, a, b);
    } else if (kind == RandomKind::kNormal) {
      v = fma(b, philox_normal(seed, offset, k), a);
    } else {
      v = fma(b, philox_truncated_normal(seed, offset, k, static_cast<uint64_t>(n)), a);
    }
    p[i] = static_cast<T>(v);
  }
}

}  // namespace

void random_fill(void* ptr, DType dtype, int64_t n, RandomKind kind, uint64_t seed, uint64_t offset,
                 double a, double b, int device) {
  if (n == 0) return;
  set_device(device);
  const int64_t blocks64 = (n + 255) / 256;
  const int blocks = static_cast<int>(blocks64 < 65535 ? blocks64 : 65535);
  if (dtype == DType::f32) {
    random_fill_kernel<float><<<blocks, 256, 0, stream(device)>>>(static_cast<float*>(ptr), n, kind,
                                                                  seed, offset, a, b);
  } else if (dtype == DType::f64) {
    random_fill_kernel<double><<<blocks, 256, 0, stream(device)>>>(static_cast<double*>(ptr), n, kind,
                                                                   seed, offset, a, b);
  } else {
    ASN_THROW(TypeError, "random fill: needs an f32 or f64 tensor, got {}", dtype_name(dtype));
  }
  ASN_KERNEL_CHECK("random_fill");
}

}  // namespace asn::cuda
