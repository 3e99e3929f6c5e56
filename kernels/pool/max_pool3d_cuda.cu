// CUDA max pooling (see max_pool3d.h). One thread per element, channel fastest, so neighbouring
// threads read neighbouring channels of the same window position (coalesced).
//   forward:  thread = output element (n, to, ho, wo, c); scans its window in (t, h, w) order with
//             the CPU's rule (strictly greater or a first NaN replaces), writes y and the argmax.
//   backward: thread = input element (n, t, h, w, c); gathers gy of the outputs whose window covers
//             it and whose argmax is this position, in the CPU's (to, ho, wo) order. No atomics:
//             every result is bitwise the CPU's.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/pool/max_pool3d.h"
#include "kernels/pool/pool3d_cuda.cuh"
#include "kernels/pool/pool3d_math.h"

namespace asn::kernels {

namespace {

using cuda::Coord5;
using cuda::unflatten5;

template <class T, class I>
__global__ void max_pool3d_forward_kernel(const T* __restrict__ x, const Pool3dGeometry g,
                                          T* __restrict__ y, int32_t* __restrict__ argmax,
                                          I total) {
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
    // The first window element starts as the best; comparing it with itself again changes nothing
    // (not greater; a NaN best is never replaced), so the scan need not skip it.
    const int64_t first = (rt.begin * g.H + rh.begin) * g.W + rw.begin;
    T best = xn[first * C];
    int64_t arg = first;
    for (int64_t t = rt.begin; t < rt.end; ++t) {
      for (int64_t h = rh.begin; h < rh.end; ++h) {
        const int64_t row = (t * g.H + h) * g.W;
        for (int64_t w = rw.begin; w < rw.end; ++w) {
          const T v = xn[(row + w) * C];
          const bool take = v > best || (v != v && best == best);
          best = take ? v : best;
          arg = take ? row + w : arg;
        }
      }
    }
    y[i] = best;
    if (argmax != nullptr) argmax[i] = static_cast<int32_t>(arg);
  }
}

template <class T, class I>
__global__ void max_pool3d_backward_kernel(const T* __restrict__ gy,
                                           const int32_t* __restrict__ argmax,
                                           const Pool3dGeometry g, T* __restrict__ gx, I total) {
  const I stride = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += stride) {
    const Coord5<I> q = unflatten5<I>(i, static_cast<I>(g.T), static_cast<I>(g.H),
                                      static_cast<I>(g.W), static_cast<I>(g.C));
    const int32_t self =
        static_cast<int32_t>((static_cast<int64_t>(q.d0) * g.H + q.d1) * g.W + q.d2);
    const PoolRange ot =
        pool_outputs_covering(q.d0, g.To, g.p.kernel[0], g.p.stride[0], g.p.pad[0].before);
    const PoolRange oh =
        pool_outputs_covering(q.d1, g.Ho, g.p.kernel[1], g.p.stride[1], g.p.pad[1].before);
    const PoolRange ow =
        pool_outputs_covering(q.d2, g.Wo, g.p.kernel[2], g.p.stride[2], g.p.pad[2].before);
    T acc = T(0);
    for (int64_t to = ot.begin; to < ot.end; ++to) {
      for (int64_t ho = oh.begin; ho < oh.end; ++ho) {
        for (int64_t wo = ow.begin; wo < ow.end; ++wo) {
          const int64_t o =
              (((static_cast<int64_t>(q.n) * g.To + to) * g.Ho + ho) * g.Wo + wo) * g.C + q.c;
          acc += argmax[o] == self ? gy[o] : T(0);
        }
      }
    }
    gx[i] = acc;
  }
}

}  // namespace

template <class T>
void max_pool3d_forward_cuda(const T* x, const Pool3dGeometry& g, T* y, int32_t* argmax,
                             int device) {
  const int64_t total = g.N * g.To * g.Ho * g.Wo * g.C;
  if (total == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int grid = cuda::grid_1d(total);
  // 32-bit coordinates when both tensors are small enough (the input is indexed through them too).
  if (cuda::fits_int32(total) && cuda::fits_int32(g.N * g.T * g.H * g.W * g.C)) {
    max_pool3d_forward_kernel<T, int32_t>
        <<<grid, cuda::kBlock, 0, s>>>(x, g, y, argmax, static_cast<int32_t>(total));
  } else {
    max_pool3d_forward_kernel<T, int64_t><<<grid, cuda::kBlock, 0, s>>>(x, g, y, argmax, total);
  }
  ASN_KERNEL_CHECK("max_pool3d");
}

template <class T>
void max_pool3d_backward_cuda(const T* gy, const int32_t* argmax, const Pool3dGeometry& g, T* gx,
                              int device) {
  const int64_t total = g.N * g.T * g.H * g.W * g.C;
  if (total == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int grid = cuda::grid_1d(total);
  if (cuda::fits_int32(total)) {
    max_pool3d_backward_kernel<T, int32_t>
        <<<grid, cuda::kBlock, 0, s>>>(gy, argmax, g, gx, static_cast<int32_t>(total));
  } else {
    max_pool3d_backward_kernel<T, int64_t><<<grid, cuda::kBlock, 0, s>>>(gy, argmax, g, gx, total);
  }
  ASN_KERNEL_CHECK("max_pool3d backward");
}

template void max_pool3d_forward_cuda<float>(const float*, const Pool3dGeometry&, float*, int32_t*,
                                             int);
template void max_pool3d_forward_cuda<double>(const double*, const Pool3dGeometry&, double*,
                                              int32_t*, int);
template void max_pool3d_backward_cuda<float>(const float*, const int32_t*, const Pool3dGeometry&,
                                              float*, int);
template void max_pool3d_backward_cuda<double>(const double*, const int32_t*, const Pool3dGeometry&,
                                               double*, int);

}  // namespace asn::kernels
