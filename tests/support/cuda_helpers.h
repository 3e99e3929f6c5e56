// Helpers shared by the CUDA-vs-CPU tests (tests/cuda/): the device, NaN-poisoned device buffers
// (so an element a kernel forgets to write shows up), CUDA copies of CPU tensors, bitwise equality.
#pragma once

#include <cmath>

#include "engine/tensor.h"

namespace asn::test {

inline const Device kGpu = Device::cuda(0);

// A CUDA buffer of `shape` filled with NaN. With misalign > 0 it starts `misalign` elements into a
// larger allocation, so its data pointer is not 16-byte aligned (kernels' unvectorised paths).
inline Tensor poisoned(const Shape& shape, DType dt, int64_t misalign = 0) {
  Tensor buf = Tensor::full(Shape{shape.numel() + misalign}, NAN, dt, kGpu);
  return buf.narrow0(misalign, shape.numel()).reshape(shape);
}

// A CUDA copy of a CPU tensor, placed like poisoned().
inline Tensor on_gpu(const Tensor& host, int64_t misalign = 0) {
  Tensor t = poisoned(host.shape(), host.dtype(), misalign);
  t.copy_from(host);
  return t;
}

// Same shape and exactly the same values (NaN never equals).
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace asn::test
