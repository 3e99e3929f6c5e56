// The comparison of the min / max reductions, shared by the CPU and CUDA kernels (extreme.h).
#pragma once

#include "engine/host_device.h"
#include "kernels/reduce/extreme.h"

namespace asn::kernels {

// Whether v should replace best: strictly more extreme, or a NaN (which then sticks, since no
// comparison with a NaN best is true and v != v only for a NaN v).
template <class T>
ASN_HOST_DEVICE bool extreme_replaces(T v, T best, Extreme kind) {
  return (kind == Extreme::max ? v > best : v < best) || v != v;
}

}  // namespace asn::kernels
