// Staging copies around the cuDNN convolution (conv3d_cudnn.cpp): one CUDA kernel that copies a
// 5-D tensor between the channels-last layout (N, D0, D1, D2, C) and the channels-first layout
// (N, C, D0, D1, D2) while padding each spatial axis with zeros or cropping it:
//
//   dst[n, c, d0, d1, d2] = src[n, c, d0 - before0, d1 - before1, d2 - before2]
//                           where every source index is inside the source, else 0
//
// so before > 0 pads at the start (and a larger dst pads at the end) and before < 0 crops. Uses:
//   - the asymmetric part of TF SAME padding, which cuDNN (symmetric pads only) cannot express:
//     the input is copied into a zero-padded buffer, its gradient cropped back;
//   - the operands of channels-first cuDNN plans (x, dy, the kernel (Cout, kT, kH, kW, Cin) as
//     n = Cout, c = Cin), and aligned copies of operands at addresses not 16-byte aligned.
// Every destination element is written (one thread each, destination order: coalesced stores).
#pragma once

#ifdef ASN_WITH_CUDA

#include <cstdint>

namespace asn::kernels {

struct Conv3dStaging {
  int64_t n = 0;                  // batch (or Cout for a kernel)
  int64_t c = 0;                  // channels (or Cin for a kernel)
  int64_t src[3] = {0, 0, 0};     // source spatial sizes (D0, D1, D2)
  int64_t dst[3] = {0, 0, 0};     // destination spatial sizes
  int64_t before[3] = {0, 0, 0};  // destination index d reads source index d - before
  bool src_channels_last = true;
  bool dst_channels_last = true;
};

// dst (n * c * dst0 * dst1 * dst2 elements) from src, on device's main stream.
template <class T>
void conv3d_stage_cuda(const T* src, const Conv3dStaging& s, T* dst, int device);

}  // namespace asn::kernels

#endif  // ASN_WITH_CUDA
