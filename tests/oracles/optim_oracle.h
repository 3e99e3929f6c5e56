// Scalar reference loops (double, textbook forms, test-only) for the optimizers: one update of a
// flat parameter vector whose elements [0, decay_count) take weight decay.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace asn::test::oracle {

// SGD, coupled L2: d = g + wd w; momentum 0: w -= lr d; else buf = mu buf + d and
// w -= lr buf (plain) or w -= lr (d + mu buf) (Nesterov).
inline void sgd_step(std::vector<double>& w, const std::vector<double>& g, std::vector<double>& buf,
                     int64_t decay_count, double lr, double momentum, bool nesterov, double wd) {
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = g[i] + (static_cast<int64_t>(i) < decay_count ? wd * w[i] : 0.0);
    if (momentum == 0) {
      w[i] -= lr * d;
      continue;
    }
    buf[i] = momentum * buf[i] + d;
    w[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i]);
  }
}

// AdamW (Loshchilov & Hutter, PyTorch's placement of eps): w *= 1 - lr wd on the decay range;
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr m_hat / (sqrt(v_hat) + eps) with
// m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
inline void adamw_step(std::vector<double>& w, const std::vector<double>& g, std::vector<double>& m,
                       std::vector<double>& v, int64_t decay_count, double lr, double b1, double b2,
                       double eps, double wd, int64_t t) {
  for (size_t i = 0; i < w.size(); ++i) {
    if (static_cast<int64_t>(i) < decay_count) w[i] *= 1.0 - lr * wd;
    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
    const double m_hat = m[i] / (1.0 - std::pow(b1, static_cast<double>(t)));
    const double v_hat = v[i] / (1.0 - std::pow(b2, static_cast<double>(t)));
    w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
}

}  // namespace asn::test::oracle
