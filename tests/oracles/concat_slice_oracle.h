// Test oracles: naive concat and slice by mapping every output multi-index to its source.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace asn::test::oracle {

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t f = 0;
  for (int a = 0; a < s.rank(); ++a) f = f * s[a] + idx[static_cast<size_t>(a)];
  return f;
}

inline std::vector<int64_t> unravel_index(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(static_cast<size_t>(s.rank()));
  for (int a = s.rank() - 1; a >= 0; --a) {
    idx[static_cast<size_t>(a)] = flat % s[a];
    flat /= s[a];
  }
  return idx;
}

// xs agree on every axis but `axis` (non-negative).
inline std::vector<double> concat(const std::vector<Tensor>& xs, int axis) {
  Shape out = xs[0].shape();
  int64_t total = 0;
  for (const Tensor& x : xs) total += x.dim(axis);
  out[axis] = total;
  std::vector<std::vector<double>> values;
  for (const Tensor& x : xs) values.push_back(x.to_vector<double>());
  std::vector<double> y(static_cast<size_t>(out.numel()));
  for (int64_t f = 0; f < out.numel(); ++f) {
    std::vector<int64_t> idx = unravel_index(f, out);
    size_t k = 0;
    while (idx[static_cast<size_t>(axis)] >= xs[k].dim(axis)) {
      idx[static_cast<size_t>(axis)] -= xs[k].dim(axis);
      ++k;
    }
    y[static_cast<size_t>(f)] = values[k][static_cast<size_t>(ravel(idx, xs[k].shape()))];
  }
  return y;
}

inline std::vector<double> slice(const Tensor& x, int axis, int64_t start, int64_t length) {
  const Shape out = x.shape().with(axis, length);
  const std::vector<double> xs = x.to_vector<double>();
  std::vector<double> y(static_cast<size_t>(out.numel()));
  for (int64_t f = 0; f < out.numel(); ++f) {
    std::vector<int64_t> idx = unravel_index(f, out);
    idx[static_cast<size_t>(axis)] += start;
    y[static_cast<size_t>(f)] = xs[static_cast<size_t>(ravel(idx, x.shape()))];
  }
  return y;
}

}  // namespace asn::test::oracle
