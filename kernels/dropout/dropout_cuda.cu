// CUDA dropout (kernels/dropout/dropout.h): thread b takes Philox block b, i.e. elements 4b..4b+3,
// with exactly the CPU's keep decision and scaling (dropout_math.h), so masks and outputs are
// bitwise equal to the CPU's for the same (seed, offset, rate).
#include <algorithm>

#include "kernels/dropout/dropout.h"
#include "kernels/dropout/dropout_math.h"
#include "kernels/elementwise/map_cuda.cuh"

namespace asn::kernels {

namespace {

// PACKED: x and y allow one aligned 4-element access per block (then every full block is loaded at
// once; the last, partial block is always done element by element).
template <class T, bool PACKED>
__global__ void dropout_kernel(uint64_t seed, uint64_t offset, float rate, T scale, const T* x,
                               T* y, int64_t n) {
  const int64_t blocks = (n + 3) / 4;
  ASN_GRID_STRIDE_LOOP(b, blocks) {
    const PhiloxResult bits = dropout_block_bits(seed, offset, static_cast<uint64_t>(b));
    const int64_t k0 = 4 * b;
    if (PACKED && k0 + 4 <= n) {
      cuda::Pack<T, 4> p = cuda::load_pack<4>(x + k0);
#pragma unroll
      for (int l = 0; l < 4; ++l)
        p.v[l] = dropout_apply(p.v[l], dropout_keep_bits(bits.v[l], rate), scale);
      cuda::store_pack<4>(y + k0, p);
    } else {
      const int lanes = static_cast<int>(n - k0 < 4 ? n - k0 : 4);
      for (int l = 0; l < lanes; ++l) {
        y[k0 + l] = dropout_apply(x[k0 + l], dropout_keep_bits(bits.v[l], rate), scale);
      }
    }
  }
}

}  // namespace

template <class T>
void dropout_apply_cuda(const DropoutParams& p, const T* x, T* y, int64_t n, int device) {
  if (n == 0) return;
  asn::cuda::set_device(device);
  const float rate = static_cast<float>(p.rate);
  const T scale = static_cast<T>(1.0 / (1.0 - p.rate));
  const int grid = cuda::grid_1d((n + 3) / 4);
  cudaStream_t s = asn::cuda::stream(device);
  if (cuda::is_aligned(x, 4 * sizeof(T)) && cuda::is_aligned(y, 4 * sizeof(T))) {
    dropout_kernel<T, true><<<grid, cuda::kBlock, 0, s>>>(p.seed, p.offset, rate, scale, x, y, n);
  } else {
    dropout_kernel<T, false><<<grid, cuda::kBlock, 0, s>>>(p.seed, p.offset, rate, scale, x, y, n);
  }
  ASN_KERNEL_CHECK("dropout");
}

template void dropout_apply_cuda<float>(const DropoutParams&, const float*, float*, int64_t, int);
template void dropout_apply_cuda<double>(const DropoutParams&, const double*, double*, int64_t,
                                         int);

}  // namespace asn::kernels
