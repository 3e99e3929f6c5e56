// Helpers shared by the CUDA pooling kernels: splitting a flat element index of a channels-last
// (N, D0, D1, D2, C) tensor into its coordinates, in 32-bit arithmetic when the tensor is small
// enough (integer division is the costliest part of a pooling thread's bookkeeping).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace asn::kernels::cuda {

template <class I>
struct Coord5 {
  I n, d0, d1, d2, c;
};

// Coordinates of element i of a row-major (N, D0, D1, D2, C) tensor.
template <class I>
__device__ __forceinline__ Coord5<I> unflatten5(I i, I D0, I D1, I D2, I C) {
  Coord5<I> r;
  r.c = i % C;
  I q = i / C;
  r.d2 = q % D2;
  q /= D2;
  r.d1 = q % D1;
  q /= D1;
  r.d0 = q % D0;
  r.n = q / D0;
  return r;
}

// True when 32-bit index arithmetic is safe for `numel` elements in a grid-stride loop: below 2^30,
// so an index plus the largest grid stride (grid_1d caps it under 2^28) cannot overflow int32.
inline bool fits_int32(int64_t numel) { return numel < (int64_t{1} << 30); }

}  // namespace asn::kernels::cuda
