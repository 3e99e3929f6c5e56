// Test oracle for the representation-flow layer: a naive nested-loop transcription of
// assemblenet-spec §5.1-5.2 in double precision, written independently of kernels/repflow (it
// shares only the plain TvL1Params struct). Never optimised: one plane, one pixel at a time, with
// explicit zero-padded neighbour reads.
//
// It also reports how close the run came to a TV-L1 branch switch (rho = +-lt grad), so gradient
// checks can pick inputs whose finite differences never cross a threshold.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/repflow/tvl1_flow.h"

namespace asn::test {

struct RepFlowOracleResult {
  std::vector<double> flow;  // (N, T, H, W, 2C')
  double min_margin = std::numeric_limits<double>::infinity();  // min |rho -+ lt grad| seen
  int64_t branch_count[4] = {0, 0, 0, 0};  // pixel-iterations per mask branch (0 = no step)
};

// x (N, T, H, W, C) row-major.
inline RepFlowOracleResult rep_flow_oracle(const std::vector<double>& x, int64_t N, int64_t T,
                                           int64_t H, int64_t W, int64_t C,
                                           const kernels::TvL1Params& p, int iterations,
                                           bool channel_mean, bool normalize) {
  // Steps 1-2.
  const int64_t Cp = channel_mean ? 1 : C;
  std::vector<double> img(static_cast<size_t>(N * T * H * W * Cp));
  for (int64_t q = 0; q < N * T * H * W; ++q) {
    if (channel_mean) {
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += x[static_cast<size_t>(q * C + c)];
      img[static_cast<size_t>(q)] = s / static_cast<double>(C);
    } else {
      for (int64_t c = 0; c < C; ++c) img[static_cast<size_t>(q * C + c)] = x[static_cast<size_t>(q * C + c)];
    }
  }
  if (normalize) {
    const double mn = *std::min_element(img.begin(), img.end());
    const double mx = *std::max_element(img.begin(), img.end());
    for (double& v : img) v = mx == mn ? v - mn : 255.0 * (v - mn) / (mx - mn);
  }
  RepFlowOracleResult res;
  res.flow.assign(static_cast<size_t>(N * T * H * W * 2 * Cp), 0.0);
  if (T == 1) return res;

  const double eps = 1e-12;
  const double th = std::fabs(p.theta) + eps;
  const double lt = p.lambda * th;
  const double taut = p.tau / th;
  auto at = [&](const std::vector<double>& a, int64_t i, int64_t j) {
    return (i < 0 || i >= H || j < 0 || j >= W) ? 0.0 : a[static_cast<size_t>(i * W + j)];
  };
  const size_t HW = static_cast<size_t>(H * W);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t t = 0; t + 1 < T; ++t) {
      for (int64_t c = 0; c < Cp; ++c) {
        std::vector<double> I0(HW), I1(HW);
        for (int64_t i = 0; i < H; ++i)
          for (int64_t j = 0; j < W; ++j) {
            I0[static_cast<size_t>(i * W + j)] = img[static_cast<size_t>((((n * T + t) * H + i) * W + j) * Cp + c)];
            I1[static_cast<size_t>(i * W + j)] = img[static_cast<size_t>((((n * T + t + 1) * H + i) * W + j) * Cp + c)];
          }
        std::vector<double> gx(HW), gy(HW), grad(HW), rho_c(HW);
        for (int64_t i = 0; i < H; ++i)
          for (int64_t j = 0; j < W; ++j) {
            const size_t q = static_cast<size_t>(i * W + j);
            gx[q] = p.img_grad_x[0] * at(I1, i, j - 1) + p.img_grad_x[1] * at(I1, i, j) +
                    p.img_grad_x[2] * at(I1, i, j + 1);
            gy[q] = p.img_grad_y[0] * at(I1, i - 1, j) + p.img_grad_y[1] * at(I1, i, j) +
                    p.img_grad_y[2] * at(I1, i + 1, j);
            grad[q] = gx[q] * gx[q] + gy[q] * gy[q] + eps;
            rho_c[q] = I1[q] - I0[q];
          }
        std::vector<double> u1(HW, 0), u2(HW, 0), p11(HW, 0), p12(HW, 0), p21(HW, 0), p22(HW, 0);
        for (int it = 0; it < iterations; ++it) {
          // Divergence of the OLD duals: shift right / down by one, then the 2-tap difference.
          auto div = [&](const std::vector<double>& pa, const std::vector<double>& pb, int64_t i,
                         int64_t j) {
            auto sa = [&](int64_t jj) { return (jj < 1 || jj >= W) ? 0.0 : at(pa, i, jj - 1); };
            auto sb = [&](int64_t ii) { return (ii < 1 || ii >= H) ? 0.0 : at(pb, ii - 1, j); };
            return p.f_grad_x[0] * sa(j) + p.f_grad_x[1] * sa(j + 1) + p.f_grad_y[0] * sb(i) +
                   p.f_grad_y[1] * sb(i + 1);
          };
          std::vector<double> n1(HW), n2(HW);
          for (int64_t i = 0; i < H; ++i)
            for (int64_t j = 0; j < W; ++j) {
              const size_t q = static_cast<size_t>(i * W + j);
              const double rho = rho_c[q] + gx[q] * u1[q] + gy[q] * u2[q] + eps;
              res.min_margin = std::min(res.min_margin, std::fabs(rho - lt * grad[q]));
              res.min_margin = std::min(res.min_margin, std::fabs(rho + lt * grad[q]));
              double d1 = 0, d2 = 0;
              int branch = 0;
              if (rho < -lt * grad[q]) {
                d1 = lt * gx[q];
                d2 = lt * gy[q];
                branch = 1;
              } else if (rho > lt * grad[q]) {
                d1 = -lt * gx[q];
                d2 = -lt * gy[q];
                branch = 2;
              } else if (grad[q] > eps) {
                d1 = -rho / grad[q] * gx[q];
                d2 = -rho / grad[q] * gy[q];
                branch = 3;
              }
              ++res.branch_count[branch];
              n1[q] = u1[q] + d1 + th * div(p11, p12, i, j);
              n2[q] = u2[q] + d2 + th * div(p21, p22, i, j);
            }
          u1 = n1;
          u2 = n2;
          for (int64_t i = 0; i < H; ++i)
            for (int64_t j = 0; j < W; ++j) {
              const size_t q = static_cast<size_t>(i * W + j);
              const double u1x = p.f_grad_x2[0] * u1[q] + p.f_grad_x2[1] * at(u1, i, j + 1);
              const double u1y = p.f_grad_y2[0] * u1[q] + p.f_grad_y2[1] * at(u1, i + 1, j);
              const double u2x = p.f_grad_x2[0] * u2[q] + p.f_grad_x2[1] * at(u2, i, j + 1);
              const double u2y = p.f_grad_y2[0] * u2[q] + p.f_grad_y2[1] * at(u2, i + 1, j);
              const double m1 = 1 + taut * std::sqrt(u1x * u1x + u1y * u1y + eps);
              const double m2 = 1 + taut * std::sqrt(u2x * u2x + u2y * u2y + eps);
              p11[q] = (p11[q] + taut * u1x) / m1;
              p12[q] = (p12[q] + taut * u1y) / m1;
              p21[q] = (p21[q] + taut * u2x) / m2;
              p22[q] = (p22[q] + taut * u2y) / m2;
            }
        }
        // Output frame t, and the duplicate frame T-1 for the last pair.
        for (int64_t tt = t; tt <= (t + 2 == T ? t + 1 : t); ++tt)
          for (int64_t i = 0; i < H; ++i)
            for (int64_t j = 0; j < W; ++j) {
              const size_t o = static_cast<size_t>((((n * T + tt) * H + i) * W + j) * 2 * Cp);
              res.flow[o + static_cast<size_t>(c)] = u1[static_cast<size_t>(i * W + j)];
              res.flow[o + static_cast<size_t>(Cp + c)] = u2[static_cast<size_t>(i * W + j)];
            }
      }
    }
  }
  return res;
}

}  // namespace asn::test
