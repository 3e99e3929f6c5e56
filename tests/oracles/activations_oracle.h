// Naive double-precision oracles for ReLU, sigmoid and softmax over the last axis (test-only, never
// optimised). Inputs of any floating dtype; outputs are f64 tensors of the same shape.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/tensor.h"

namespace asn::oracle {

inline Tensor relu(const Tensor& x) {
  std::vector<double> v = x.to_vector<double>();
  for (double& e : v) e = e > 0 ? e : 0;
  return Tensor::from_vector<double>(x.shape(), v);
}

// Textbook 1 / (1 + exp(-x)) in double (exact enough for |x| < 700, which the tests use).
inline Tensor sigmoid(const Tensor& x) {
  std::vector<double> v = x.to_vector<double>();
  for (double& e : v) e = 1.0 / (1.0 + std::exp(-e));
  return Tensor::from_vector<double>(x.shape(), v);
}

// Softmax over the last axis, computed the direct way (max subtracted to keep exp finite).
inline Tensor softmax(const Tensor& x) {
  std::vector<double> v = x.to_vector<double>();
  const int64_t cols = x.dim(-1);
  const int64_t rows = x.numel() / cols;
  for (int64_t r = 0; r < rows; ++r) {
    double m = v[static_cast<size_t>(r * cols)];
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, v[static_cast<size_t>(r * cols + j)]);
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += std::exp(v[static_cast<size_t>(r * cols + j)] - m);
    for (int64_t j = 0; j < cols; ++j) {
      double& e = v[static_cast<size_t>(r * cols + j)];
      e = std::exp(e - m) / s;
    }
  }
  return Tensor::from_vector<double>(x.shape(), v);
}

}  // namespace asn::oracle
