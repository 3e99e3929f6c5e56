// Naive double-precision batch normalisation oracle (test-only): statistics per channel over every
// axis but the last, by plain loops; the textbook training backward. All results are f64.
#pragma once

#include <cmath>
#include <vector>

#include "engine/tensor.h"

namespace asn::oracle {

struct BatchNormResult {
  Tensor y;
  std::vector<double> mean, var;                  // batch mean and biased variance (training)
  std::vector<double> running_mean, running_var;  // after the update (training) or unchanged
};

// gamma / beta / running_* may be empty vectors (gamma 1, beta 0; running stats 0 / 1).
inline BatchNormResult batch_norm(const Tensor& x, std::vector<double> gamma,
                                  std::vector<double> beta, std::vector<double> running_mean,
                                  std::vector<double> running_var, bool training, double momentum,
                                  double eps, bool relu) {
  const int64_t C = x.dim(-1), M = x.numel() / C;
  const std::vector<double> xv = x.to_vector<double>();
  if (gamma.empty()) gamma.assign(static_cast<size_t>(C), 1.0);
  if (beta.empty()) beta.assign(static_cast<size_t>(C), 0.0);
  if (running_mean.empty()) running_mean.assign(static_cast<size_t>(C), 0.0);
  if (running_var.empty()) running_var.assign(static_cast<size_t>(C), 1.0);
  BatchNormResult res;
  res.mean.assign(static_cast<size_t>(C), 0.0);
  res.var.assign(static_cast<size_t>(C), 0.0);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t r = 0; r < M; ++r) s += xv[static_cast<size_t>(r * C + c)];
    const double mean = s / M;
    double q = 0;
    for (int64_t r = 0; r < M; ++r) {
      const double d = xv[static_cast<size_t>(r * C + c)] - mean;
      q += d * d;
    }
    res.mean[static_cast<size_t>(c)] = mean;
    res.var[static_cast<size_t>(c)] = q / M;
  }
  std::vector<double> use_mean = training ? res.mean : running_mean;
  std::vector<double> use_var = training ? res.var : running_var;
  std::vector<double> y(xv.size());
  for (int64_t r = 0; r < M; ++r) {
    for (int64_t c = 0; c < C; ++c) {
      const size_t i = static_cast<size_t>(r * C + c), ci = static_cast<size_t>(c);
      double v = gamma[ci] * (xv[i] - use_mean[ci]) / std::sqrt(use_var[ci] + eps) + beta[ci];
      if (relu && v < 0) v = 0;
      y[i] = v;
    }
  }
  res.y = Tensor::from_vector<double>(x.shape(), y);
  res.running_mean = running_mean;
  res.running_var = running_var;
  if (training) {
    for (int64_t c = 0; c < C; ++c) {
      const size_t ci = static_cast<size_t>(c);
      const double unbiased = res.var[ci] * M / (M - 1);
      res.running_mean[ci] = momentum * running_mean[ci] + (1 - momentum) * res.mean[ci];
      res.running_var[ci] = momentum * running_var[ci] + (1 - momentum) * unbiased;
    }
  }
  return res;
}

struct BatchNormGrads {
  Tensor dx;
  std::vector<double> dgamma, dbeta;
};

// Training-mode backward without ReLU: dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat *
// mean(dy * xhat)).
inline BatchNormGrads batch_norm_train_backward(const Tensor& x, const Tensor& dy,
                                                std::vector<double> gamma, double eps) {
  const int64_t C = x.dim(-1), M = x.numel() / C;
  const std::vector<double> xv = x.to_vector<double>(), gv = dy.to_vector<double>();
  if (gamma.empty()) gamma.assign(static_cast<size_t>(C), 1.0);
  BatchNormGrads g;
  g.dgamma.assign(static_cast<size_t>(C), 0.0);
  g.dbeta.assign(static_cast<size_t>(C), 0.0);
  std::vector<double> dx(xv.size());
  for (int64_t c = 0; c < C; ++c) {
    const size_t ci = static_cast<size_t>(c);
    double s = 0;
    for (int64_t r = 0; r < M; ++r) s += xv[static_cast<size_t>(r * C + c)];
    const double mean = s / M;
    double q = 0;
    for (int64_t r = 0; r < M; ++r) q += std::pow(xv[static_cast<size_t>(r * C + c)] - mean, 2);
    const double invstd = 1.0 / std::sqrt(q / M + eps);
    for (int64_t r = 0; r < M; ++r) {
      const size_t i = static_cast<size_t>(r * C + c);
      g.dbeta[ci] += gv[i];
      g.dgamma[ci] += gv[i] * (xv[i] - mean) * invstd;
    }
    for (int64_t r = 0; r < M; ++r) {
      const size_t i = static_cast<size_t>(r * C + c);
      const double xhat = (xv[i] - mean) * invstd;
      dx[i] = gamma[ci] * invstd * (gv[i] - g.dbeta[ci] / M - xhat * g.dgamma[ci] / M);
    }
  }
  g.dx = Tensor::from_vector<double>(x.shape(), dx);
  return g;
}

}  // namespace asn::oracle
