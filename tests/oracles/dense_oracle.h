// Test oracle: naive dense layer y[m, o] = b[o] + sum_i x[m, i] w[o, i] in double.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace asn::test::oracle {

// x (..., Cin), w (Cout, Cin), b (Cout,) or undefined; returns y (..., Cout) row-major.
inline std::vector<double> dense(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t Cin = w.dim(1), Cout = w.dim(0), M = x.numel() / Cin;
  const std::vector<double> xs = x.to_vector<double>(), ws = w.to_vector<double>();
  const std::vector<double> bs = b.defined() ? b.to_vector<double>() : std::vector<double>();
  std::vector<double> y(static_cast<size_t>(M * Cout));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < Cout; ++o) {
      double s = b.defined() ? bs[static_cast<size_t>(o)] : 0.0;
      for (int64_t i = 0; i < Cin; ++i)
        s += xs[static_cast<size_t>(m * Cin + i)] * ws[static_cast<size_t>(o * Cin + i)];
      y[static_cast<size_t>(m * Cout + o)] = s;
    }
  return y;
}

}  // namespace asn::test::oracle
