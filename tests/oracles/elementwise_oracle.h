// Naive double-precision oracles for broadcasting add / sub / mul and for summing a gradient over
// broadcast axes (test-only). Every output element is located by its full multi-index; an operand
// axis of size 1 is read at index 0.
#pragma once

#include <algorithm>
#include <vector>

#include "engine/tensor.h"

namespace asn::oracle {

// Flat index into `shape` of the multi-index `idx` (size-1 axes read at 0).
inline int64_t broadcast_index(const Shape& shape, const std::vector<int64_t>& idx) {
  int64_t flat = 0;
  for (int i = 0; i < shape.rank(); ++i) {
    flat = flat * shape[i] + (shape[i] == 1 ? 0 : idx[static_cast<size_t>(i)]);
  }
  return flat;
}

// Multi-index of flat position k in `shape`.
inline std::vector<int64_t> unravel(const Shape& shape, int64_t k) {
  std::vector<int64_t> idx(static_cast<size_t>(shape.rank()));
  for (int i = shape.rank() - 1; i >= 0; --i) {
    idx[static_cast<size_t>(i)] = k % shape[i];
    k /= shape[i];
  }
  return idx;
}

// op: '+', '-' or '*'. Output shape: per axis the larger size.
inline Tensor binary(char op, const Tensor& a, const Tensor& b) {
  std::vector<int64_t> dims;
  for (int i = 0; i < a.rank(); ++i) dims.push_back(std::max(a.dim(i), b.dim(i)));
  const Shape out(dims);
  const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<double> o(static_cast<size_t>(out.numel()));
  for (int64_t k = 0; k < out.numel(); ++k) {
    const std::vector<int64_t> idx = unravel(out, k);
    const double x = av[static_cast<size_t>(broadcast_index(a.shape(), idx))];
    const double y = bv[static_cast<size_t>(broadcast_index(b.shape(), idx))];
    o[static_cast<size_t>(k)] = op == '+' ? x + y : op == '-' ? x - y : x * y;
  }
  return Tensor::from_vector<double>(out, o);
}

// Sums g (the output's shape) over the axes where `target` has size 1.
inline Tensor sum_to_shape(const Tensor& g, const Shape& target) {
  const std::vector<double> gv = g.to_vector<double>();
  std::vector<double> o(static_cast<size_t>(target.numel()), 0.0);
  for (int64_t k = 0; k < g.numel(); ++k) {
    o[static_cast<size_t>(broadcast_index(target, unravel(g.shape(), k)))] +=
        gv[static_cast<size_t>(k)];
  }
  return Tensor::from_vector<double>(target, o);
}

}  // namespace asn::oracle
