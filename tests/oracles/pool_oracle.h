// Test oracle: naive 3-D max / avg pooling in double, straight from the definitions (loop over
// every kernel tap of the padded window, skip taps that fall in the padding). Never optimised.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "engine/tensor.h"
#include "kernels/pool/pool3d.h"

namespace asn::test::oracle {

struct PoolResult {
  Shape shape;  // (N, To, Ho, Wo, C)
  std::vector<double> y;
  std::vector<int64_t> argmax;  // max pool: t * H * W + h * W + w of the first maximum
};

// max (is_max) or average with padding left out of the divisor.
inline PoolResult pool3d(const Tensor& x, const kernels::Pool3dParams& p, bool is_max) {
  const std::vector<double> xs = x.to_vector<double>();
  const int64_t N = x.dim(0), C = x.dim(4);
  const int64_t in[3] = {x.dim(1), x.dim(2), x.dim(3)};
  int64_t out[3];
  for (int a = 0; a < 3; ++a)
    out[a] = (in[a] + p.pad[a].before + p.pad[a].after - p.kernel[a]) / p.stride[a] + 1;
  PoolResult r;
  r.shape = Shape{N, out[0], out[1], out[2], C};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ot = 0; ot < out[0]; ++ot)
      for (int64_t oh = 0; oh < out[1]; ++oh)
        for (int64_t ow = 0; ow < out[2]; ++ow)
          for (int64_t c = 0; c < C; ++c) {
            double best = -std::numeric_limits<double>::infinity();
            int64_t best_at = -1;
            double sum = 0;
            int64_t count = 0;
            for (int64_t kt = 0; kt < p.kernel[0]; ++kt)
              for (int64_t kh = 0; kh < p.kernel[1]; ++kh)
                for (int64_t kw = 0; kw < p.kernel[2]; ++kw) {
                  const int64_t t = ot * p.stride[0] - p.pad[0].before + kt;
                  const int64_t h = oh * p.stride[1] - p.pad[1].before + kh;
                  const int64_t w = ow * p.stride[2] - p.pad[2].before + kw;
                  if (t < 0 || t >= in[0] || h < 0 || h >= in[1] || w < 0 || w >= in[2]) continue;
                  const int64_t pos = (t * in[1] + h) * in[2] + w;
                  const double v =
                      xs[static_cast<size_t>((n * in[0] * in[1] * in[2] + pos) * C + c)];
                  if (best_at < 0 || v > best) {
                    best = v;
                    best_at = pos;
                  }
                  sum += v;
                  ++count;
                }
            r.y.push_back(is_max ? best : sum / static_cast<double>(count));
            r.argmax.push_back(best_at);
          }
  return r;
}

}  // namespace asn::test::oracle
