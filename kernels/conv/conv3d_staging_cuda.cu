// The staging copy of conv3d_staging.h: one thread per destination element (grid-stride), which
// finds its source element (or none: zero) from its coordinates. Pure copies: exact.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/conv/conv3d_staging.h"

namespace asn::kernels {

namespace {

template <class T>
__global__ void conv3d_stage_kernel(const T* __restrict__ src, const Conv3dStaging s,
                                    T* __restrict__ dst, int64_t total) {
  ASN_GRID_STRIDE_LOOP(i, total) {
    // Coordinates of destination element i in its layout.
    int64_t r = i, c = 0;
    int64_t d[3];
    if (s.dst_channels_last) {
      c = r % s.c;
      r /= s.c;
    }
    for (int a = 2; a >= 0; --a) {
      d[a] = r % s.dst[a];
      r /= s.dst[a];
    }
    if (!s.dst_channels_last) {
      c = r % s.c;
      r /= s.c;
    }
    const int64_t n = r;
    // The source element, if inside the source.
    bool inside = true;
    int64_t q[3];
    for (int a = 0; a < 3; ++a) {
      q[a] = d[a] - s.before[a];
      inside = inside && q[a] >= 0 && q[a] < s.src[a];
    }
    T v = T(0);
    if (inside) {
      const int64_t spatial = (q[0] * s.src[1] + q[1]) * s.src[2] + q[2];
      const int64_t volume = s.src[0] * s.src[1] * s.src[2];
      const int64_t j =
          s.src_channels_last ? (n * volume + spatial) * s.c + c : (n * s.c + c) * volume + spatial;
      v = src[j];
    }
    dst[i] = v;
  }
}

}  // namespace

template <class T>
void conv3d_stage_cuda(const T* src, const Conv3dStaging& s, T* dst, int device) {
  const int64_t total = s.n * s.c * s.dst[0] * s.dst[1] * s.dst[2];
  if (total == 0) return;
  asn::cuda::set_device(device);
  conv3d_stage_kernel<T>
      <<<cuda::grid_1d(total), cuda::kBlock, 0, asn::cuda::stream(device)>>>(src, s, dst, total);
  ASN_KERNEL_CHECK("conv3d");
}

template void conv3d_stage_cuda<float>(const float*, const Conv3dStaging&, float*, int);
template void conv3d_stage_cuda<double>(const double*, const Conv3dStaging&, double*, int);

}  // namespace asn::kernels
