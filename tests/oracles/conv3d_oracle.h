// Test oracle for conv3d: the definition as seven nested loops in double precision, never
// optimised. x (N, T, H, W, Cin), w (Cout, kT, kH, kW, Cin) -> y (N, To, Ho, Wo, Cout), zero
// padding, cross-correlation (no kernel flip), as kernels/conv/conv3d.h states it.
#pragma once

#include <vector>

#include "engine/tensor.h"
#include "kernels/conv/conv3d.h"

namespace asn::test {

// Returns an f64 tensor; x and w may be f32 or f64 (read as double).
inline Tensor conv3d_oracle(const Tensor& x, const Tensor& w, const kernels::Conv3dParams& p) {
  const Shape ys = p.output_shape(x.shape(), w.shape());
  const std::vector<double> xv = x.to_vector<double>();
  const std::vector<double> wv = w.to_vector<double>();
  const int64_t N = x.dim(0), T = x.dim(1), H = x.dim(2), W = x.dim(3), Ci = x.dim(4);
  const int64_t Co = w.dim(0), kT = w.dim(1), kH = w.dim(2), kW = w.dim(3);
  const int64_t To = ys[1], Ho = ys[2], Wo = ys[3];
  std::vector<double> y(static_cast<size_t>(ys.numel()), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t to = 0; to < To; ++to)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo)
          for (int64_t co = 0; co < Co; ++co) {
            double acc = 0;
            for (int64_t kt = 0; kt < kT; ++kt)
              for (int64_t kh = 0; kh < kH; ++kh)
                for (int64_t kw = 0; kw < kW; ++kw) {
                  const int64_t t = to * p.stride[0] - p.pad[0].before + kt * p.dilation[0];
                  const int64_t h = ho * p.stride[1] - p.pad[1].before + kh * p.dilation[1];
                  const int64_t ww = wo * p.stride[2] - p.pad[2].before + kw * p.dilation[2];
                  if (t < 0 || t >= T || h < 0 || h >= H || ww < 0 || ww >= W) continue;
                  for (int64_t ci = 0; ci < Ci; ++ci) {
                    const double xe =
                        xv[static_cast<size_t>((((n * T + t) * H + h) * W + ww) * Ci + ci)];
                    const double we =
                        wv[static_cast<size_t>((((co * kT + kt) * kH + kh) * kW + kw) * Ci + ci)];
                    acc += xe * we;
                  }
                }
            y[static_cast<size_t>((((n * To + to) * Ho + ho) * Wo + wo) * Co + co)] = acc;
          }
  return Tensor::from_vector<double>(ys, y);
}

// Gradients of <dy, conv3d(x, w)>: dx (shape of x) and dw (shape of w), f64, by the same loops
// with the multiply-add turned into two scatter-adds.
inline void conv3d_backward_oracle(const Tensor& x, const Tensor& w, const Tensor& dy,
                                   const kernels::Conv3dParams& p, Tensor& dx, Tensor& dw) {
  const Shape ys = p.output_shape(x.shape(), w.shape());
  const std::vector<double> xv = x.to_vector<double>();
  const std::vector<double> wv = w.to_vector<double>();
  const std::vector<double> gv = dy.to_vector<double>();
  const int64_t N = x.dim(0), T = x.dim(1), H = x.dim(2), W = x.dim(3), Ci = x.dim(4);
  const int64_t Co = w.dim(0), kT = w.dim(1), kH = w.dim(2), kW = w.dim(3);
  const int64_t To = ys[1], Ho = ys[2], Wo = ys[3];
  std::vector<double> gx(xv.size(), 0.0), gw(wv.size(), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t to = 0; to < To; ++to)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo)
          for (int64_t co = 0; co < Co; ++co) {
            const double g =
                gv[static_cast<size_t>((((n * To + to) * Ho + ho) * Wo + wo) * Co + co)];
            for (int64_t kt = 0; kt < kT; ++kt)
              for (int64_t kh = 0; kh < kH; ++kh)
                for (int64_t kw = 0; kw < kW; ++kw) {
                  const int64_t t = to * p.stride[0] - p.pad[0].before + kt * p.dilation[0];
                  const int64_t h = ho * p.stride[1] - p.pad[1].before + kh * p.dilation[1];
                  const int64_t ww = wo * p.stride[2] - p.pad[2].before + kw * p.dilation[2];
                  if (t < 0 || t >= T || h < 0 || h >= H || ww < 0 || ww >= W) continue;
                  for (int64_t ci = 0; ci < Ci; ++ci) {
                    const size_t xi =
                        static_cast<size_t>((((n * T + t) * H + h) * W + ww) * Ci + ci);
                    const size_t wi =
                        static_cast<size_t>((((co * kT + kt) * kH + kh) * kW + kw) * Ci + ci);
                    gx[xi] += g * wv[wi];
                    gw[wi] += g * xv[xi];
                  }
                }
          }
  dx = Tensor::from_vector<double>(x.shape(), gx);
  dw = Tensor::from_vector<double>(w.shape(), gw);
}

}  // namespace asn::test
