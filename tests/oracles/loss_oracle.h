// Naive double-precision oracles for the losses (test-only; straight from the definitions, never
// optimised): softmax cross-entropy with label smoothing and sigmoid binary cross-entropy, with
// their gradients w.r.t. the logits. Keep logits moderate (|z| < 30): no log-sum-exp trick here.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace asn::test::oracle {

// One-hot (B, K) targets from class indices.
inline std::vector<double> one_hot(const std::vector<int32_t>& labels, int64_t K) {
  std::vector<double> t(labels.size() * static_cast<size_t>(K), 0.0);
  for (size_t b = 0; b < labels.size(); ++b) t[b * static_cast<size_t>(K) + labels[b]] = 1.0;
  return t;
}

// t' = (1 - s) t + s / K, elementwise.
inline std::vector<double> smooth(const std::vector<double>& t, int64_t K, double s) {
  std::vector<double> out(t.size());
  for (size_t i = 0; i < t.size(); ++i) out[i] = (1.0 - s) * t[i] + s / static_cast<double>(K);
  return out;
}

// softmax of each row of z (B, K).
inline std::vector<double> softmax_rows(const std::vector<double>& z, int64_t B, int64_t K) {
  std::vector<double> p(z.size());
  for (int64_t b = 0; b < B; ++b) {
    double den = 0;
    for (int64_t k = 0; k < K; ++k) den += std::exp(z[b * K + k]);
    for (int64_t k = 0; k < K; ++k) p[b * K + k] = std::exp(z[b * K + k]) / den;
  }
  return p;
}

// mean_b ( -sum_k t'_bk log softmax(z_b)_k ).
inline double softmax_cross_entropy(const std::vector<double>& z, const std::vector<double>& t,
                                    int64_t B, int64_t K, double s) {
  const std::vector<double> p = softmax_rows(z, B, K);
  const std::vector<double> ts = smooth(t, K, s);
  double total = 0;
  for (int64_t i = 0; i < B * K; ++i) total -= ts[i] * std::log(p[i]);
  return total / static_cast<double>(B);
}

// d/dz of the mean: (p * sum_k t'_k - t') / B per row.
inline std::vector<double> softmax_cross_entropy_grad(const std::vector<double>& z,
                                                      const std::vector<double>& t, int64_t B,
                                                      int64_t K, double s) {
  const std::vector<double> p = softmax_rows(z, B, K);
  const std::vector<double> ts = smooth(t, K, s);
  std::vector<double> g(z.size());
  for (int64_t b = 0; b < B; ++b) {
    double sum_t = 0;
    for (int64_t k = 0; k < K; ++k) sum_t += ts[b * K + k];
    for (int64_t k = 0; k < K; ++k) {
      g[b * K + k] = (p[b * K + k] * sum_t - ts[b * K + k]) / static_cast<double>(B);
    }
  }
  return g;
}

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// mean_bk ( -t log sigmoid(z) - (1 - t) log(1 - sigmoid(z)) ).
inline double sigmoid_bce(const std::vector<double>& z, const std::vector<double>& t) {
  double total = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    const double p = sigmoid(z[i]);
    total -= t[i] * std::log(p) + (1.0 - t[i]) * std::log(1.0 - p);
  }
  return total / static_cast<double>(z.size());
}

inline std::vector<double> sigmoid_bce_grad(const std::vector<double>& z,
                                            const std::vector<double>& t) {
  std::vector<double> g(z.size());
  const double n = static_cast<double>(z.size());
  for (size_t i = 0; i < z.size(); ++i) g[i] = (sigmoid(z[i]) - t[i]) / n;
  return g;
}

}  // namespace asn::test::oracle
