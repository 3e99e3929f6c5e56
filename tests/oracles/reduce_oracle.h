// Test oracles: naive sum / mean over an axis set and min / max along one axis, in double, by
// visiting every input element and adding it into the output element its kept indices name.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace asn::test::oracle {

struct ReduceResult {
  Shape shape;  // kept axes, reduced ones dropped or kept as 1; (1,) when nothing is left
  std::vector<double> y;
};

inline std::vector<int64_t> unravel(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(static_cast<size_t>(s.rank()));
  for (int a = s.rank() - 1; a >= 0; --a) {
    idx[static_cast<size_t>(a)] = flat % s[a];
    flat /= s[a];
  }
  return idx;
}

inline ReduceResult reduce_shape(const Shape& in, const std::vector<bool>& red, bool keepdims) {
  std::vector<int64_t> dims;
  for (int a = 0; a < in.rank(); ++a) {
    if (!red[static_cast<size_t>(a)])
      dims.push_back(in[a]);
    else if (keepdims)
      dims.push_back(1);
  }
  if (dims.empty()) dims.push_back(1);
  ReduceResult r;
  r.shape = Shape(dims);
  return r;
}

// Output index of input element idx: row-major over the kept axes.
inline int64_t kept_index(const std::vector<int64_t>& idx, const Shape& in,
                          const std::vector<bool>& red) {
  int64_t o = 0;
  for (int a = 0; a < in.rank(); ++a)
    if (!red[static_cast<size_t>(a)]) o = o * in[a] + idx[static_cast<size_t>(a)];
  return o;
}

// axes: non-negative, distinct.
inline ReduceResult sum_axes(const Tensor& x, const std::vector<int>& axes, bool keepdims,
                             bool mean) {
  const Shape& in = x.shape();
  std::vector<bool> red(static_cast<size_t>(in.rank()), false);
  int64_t count = 1;
  for (int a : axes) {
    red[static_cast<size_t>(a)] = true;
    count *= in[a];
  }
  ReduceResult r = reduce_shape(in, red, keepdims);
  r.y.assign(static_cast<size_t>(r.shape.numel()), 0.0);
  const std::vector<double> xs = x.to_vector<double>();
  for (int64_t i = 0; i < in.numel(); ++i)
    r.y[static_cast<size_t>(kept_index(unravel(i, in), in, red))] += xs[static_cast<size_t>(i)];
  if (mean)
    for (double& v : r.y) v /= static_cast<double>(count);
  return r;
}

// Max (is_max) or min along one non-negative axis.
inline ReduceResult extreme_axis(const Tensor& x, int axis, bool keepdims, bool is_max) {
  const Shape& in = x.shape();
  std::vector<bool> red(static_cast<size_t>(in.rank()), false);
  red[static_cast<size_t>(axis)] = true;
  ReduceResult r = reduce_shape(in, red, keepdims);
  std::vector<bool> seen(static_cast<size_t>(r.shape.numel()), false);
  r.y.assign(static_cast<size_t>(r.shape.numel()), 0.0);
  const std::vector<double> xs = x.to_vector<double>();
  for (int64_t i = 0; i < in.numel(); ++i) {
    const size_t o = static_cast<size_t>(kept_index(unravel(i, in), in, red));
    const double v = xs[static_cast<size_t>(i)];
    if (!seen[o] || (is_max ? v > r.y[o] : v < r.y[o])) r.y[o] = v;
    seen[o] = true;
  }
  return r;
}

}  // namespace asn::test::oracle
