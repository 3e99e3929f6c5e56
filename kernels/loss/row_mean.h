// The mean of per-row losses on the device, the last step of both losses' forward on CUDA:
//   out[0] = (sum over b of row_loss[b]) / divisor
// summed in double in a fixed order (one block, a fixed tree), so the loss never leaves the device
// and is bitwise reproducible. (On the CPU the autograd function adds the rows with sum_all.)
#pragma once

#include <cstdint>

namespace asn::kernels {

#ifdef ASN_WITH_CUDA
template <class T>
void row_mean_cuda(const T* row_loss, int64_t rows, double divisor, T* out, int device);
#endif

}  // namespace asn::kernels
