// CUDA average pooling (see avg_pool3d.h). One thread per element, channel fastest (coalesced).
//   forward:  thread = output element; sums its window's real positions in double in (t, h, w)
//             order and divides by their count (padding is left out of the divisor, TF SAME).
//   backward: thread = input element; gathers gy / count of every output whose window covers it,
//             in double, in the CPU's (to, ho, wo) order. No atomics: deterministic, and the same
//             double arithmetic as the CPU.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/pool/avg_pool3d.h"
#include "kernels/pool/pool3d_cuda.cuh"
#include "kernels/pool/pool3d_math.h"

namespace asn::kernels {

namespace {

using cuda::Coord5;
using cuda::unflatten5;

__device__ __forceinline__ int64_t window_count(const PoolRange& a, const PoolRange& b,
                                                const PoolRange& c) {
  return (a.end - a.begin) * (b.end - b.begin) * (c.end - c.begin);
}

template <class T, class I>
__global__ void avg_pool3d_forward_kernel(const T* __restrict__ x, const Pool3dGeometry g,
                                          T* __restrict__ y, I total) {
  const I stride = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += stride) {
    const Coord5<I> o = unflatten5<I>(i, static_cast<I>(g.To), static_cast<I>(g.Ho),
                                      static_cast<I>(g.Wo), static_cast<I>(g.C));
    const PoolRange rt = pool_window(o.d0, g.T, g.p.kernel[0], g.p.stride[0], g.p.pad[0].before);
    const PoolRange rh = pool_window(o.d1, g.H, g.p.kernel[1], g.p.stride[1], g.p.pad[1].before);
    const PoolRange rw = pool_window(o.d2, g.W, g.p.kernel[2], g.p.stride[2], g.p.pad[2].before);
    const int64_t C = g.C;
    const T* xn = x + static_cast<int64_t>(o.n) * g.T * g.H * g.W * C + o.c;
    double acc = 0;
    for (int64_t t = rt.begin; t < rt.end; ++t) {
      for (int64_t h = rh.begin; h < rh.end; ++h) {
        const int64_t row = (t * g.H + h) * g.W;
        for (int64_t w = rw.begin; w < rw.end; ++w) acc += static_cast<double>(xn[(row + w) * C]);
      }
    }
    // make_pool3d_geometry guarantees at least one real position per window.
    const double inv = 1.0 / static_cast<double>(window_count(rt, rh, rw));
    y[i] = static_cast<T>(acc * inv);
  }
}

template <class T, class I>
__global__ void avg_pool3d_backward_kernel(const T* __restrict__ gy, const Pool3dGeometry g,
                                           T* __restrict__ gx, I total) {
  const I stride = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += stride) {
    const Coord5<I> q = unflatten5<I>(i, static_cast<I>(g.T), static_cast<I>(g.H),
                                      static_cast<I>(g.W), static_cast<I>(g.C));
    const PoolRange ot =
        pool_outputs_covering(q.d0, g.To, g.p.kernel[0], g.p.stride[0], g.p.pad[0].before);
    const PoolRange oh =
        pool_outputs_covering(q.d1, g.Ho, g.p.kernel[1], g.p.stride[1], g.p.pad[1].before);
    const PoolRange ow =
        pool_outputs_covering(q.d2, g.Wo, g.p.kernel[2], g.p.stride[2], g.p.pad[2].before);
    double acc = 0;
    for (int64_t to = ot.begin; to < ot.end; ++to) {
      const PoolRange rt = pool_window(to, g.T, g.p.kernel[0], g.p.stride[0], g.p.pad[0].before);
      for (int64_t ho = oh.begin; ho < oh.end; ++ho) {
        const PoolRange rh = pool_window(ho, g.H, g.p.kernel[1], g.p.stride[1], g.p.pad[1].before);
        for (int64_t wo = ow.begin; wo < ow.end; ++wo) {
          const PoolRange rw =
              pool_window(wo, g.W, g.p.kernel[2], g.p.stride[2], g.p.pad[2].before);
          const double inv = 1.0 / static_cast<double>(window_count(rt, rh, rw));
          const int64_t o =
              (((static_cast<int64_t>(q.n) * g.To + to) * g.Ho + ho) * g.Wo + wo) * g.C + q.c;
          acc += static_cast<double>(gy[o]) * inv;
        }
      }
    }
    gx[i] = static_cast<T>(acc);
  }
}

}  // namespace

template <class T>
void avg_pool3d_forward_cuda(const T* x, const Pool3dGeometry& g, T* y, int device) {
  const int64_t total = g.N * g.To * g.Ho * g.Wo * g.C;
  if (total == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int grid = cuda::grid_1d(total);
  if (cuda::fits_int32(total) && cuda::fits_int32(g.N * g.T * g.H * g.W * g.C)) {
    avg_pool3d_forward_kernel<T, int32_t>
        <<<grid, cuda::kBlock, 0, s>>>(x, g, y, static_cast<int32_t>(total));
  } else {
    avg_pool3d_forward_kernel<T, int64_t><<<grid, cuda::kBlock, 0, s>>>(x, g, y, total);
  }
  ASN_KERNEL_CHECK("avg_pool3d");
}

template <class T>
void avg_pool3d_backward_cuda(const T* gy, const Pool3dGeometry& g, T* gx, int device) {
  const int64_t total = g.N * g.T * g.H * g.W * g.C;
  if (total == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int grid = cuda::grid_1d(total);
  if (cuda::fits_int32(total)) {
    avg_pool3d_backward_kernel<T, int32_t>
        <<<grid, cuda::kBlock, 0, s>>>(gy, g, gx, static_cast<int32_t>(total));
  } else {
    avg_pool3d_backward_kernel<T, int64_t><<<grid, cuda::kBlock, 0, s>>>(gy, g, gx, total);
  }
  ASN_KERNEL_CHECK("avg_pool3d backward");
}

template void avg_pool3d_forward_cuda<float>(const float*, const Pool3dGeometry&, float*, int);
template void avg_pool3d_forward_cuda<double>(const double*, const Pool3dGeometry&, double*, int);
template void avg_pool3d_backward_cuda<float>(const float*, const Pool3dGeometry&, float*, int);
template void avg_pool3d_backward_cuda<double>(const double*, const Pool3dGeometry&, double*, int);

}  // namespace asn::kernels
