// CPU implementation of kernels/repflow/flow_normalize.h (channel mean + whole-tensor min/max
// normalisation), forward and backward. Parallel over fixed blocks of pixels; per-block partial
// results are combined in block order, so every result is independent of the thread count.
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/repflow/flow_normalize.h"

namespace asn::kernels {

FlowNormalizeShares flow_normalize_shares(const FlowNormalizeStats& st, double sum_g,
                                          double sum_gy, int64_t n_min, int64_t n_max,
                                          int64_t n) {
  FlowNormalizeShares s;
  if (st.max > st.min) {
    const double range = st.max - st.min;
    s.scale = 255.0 / range;
    // y = 255 (m - min) / range: dL/dmin = -scale G + R / range, dL/dmax = -R / range.
    s.min_share = (-s.scale * sum_g + sum_gy / range) / static_cast<double>(std::max<int64_t>(n_min, 1));
    s.max_share = (-sum_gy / range) / static_cast<double>(std::max<int64_t>(n_max, 1));
  } else {
    // y = m - min with every element tied at min: dL/dmin = -G, shared by all n elements.
    s.scale = 1.0;
    s.min_share = -sum_g / static_cast<double>(std::max<int64_t>(n, 1));
    s.max_share = 0.0;
  }
  return s;
}

namespace {

constexpr int64_t kBlock = 4096;  // pixels per partial result

int64_t num_blocks(int64_t pixels) { return (pixels + kBlock - 1) / kBlock; }

}  // namespace

template <class T>
FlowNormalizeStats flow_normalize_forward_cpu(const T* x, const FlowNormalizeDims& d, T* y) {
  const int64_t co = d.out_channels();
  const int64_t nb = num_blocks(d.pixels);
  std::vector<T> bmin(static_cast<size_t>(nb)), bmax(static_cast<size_t>(nb));
  parallel_for(0, nb, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t p0 = b * kBlock, p1 = std::min(d.pixels, p0 + kBlock);
      T mn = flownorm::reduce_channels(x + p0 * d.c, d.c, d.channel_mean), mx = mn;
      for (int64_t p = p0; p < p1; ++p) {
        if (d.channel_mean) {
          const T m = flownorm::reduce_channels(x + p * d.c, d.c, true);
          y[p] = m;
          mn = std::min(mn, m);
          mx = std::max(mx, m);
        } else {
          for (int64_t k = 0; k < d.c; ++k) {
            const T m = x[p * d.c + k];
            y[p * d.c + k] = m;
            mn = std::min(mn, m);
            mx = std::max(mx, m);
          }
        }
      }
      bmin[static_cast<size_t>(b)] = mn;
      bmax[static_cast<size_t>(b)] = mx;
    }
  });
  FlowNormalizeStats st;
  if (!d.normalize || d.pixels == 0) return st;
  T mn = bmin[0], mx = bmax[0];
  for (int64_t b = 1; b < nb; ++b) {
    mn = std::min(mn, bmin[static_cast<size_t>(b)]);
    mx = std::max(mx, bmax[static_cast<size_t>(b)]);
  }
  parallel_for(0, d.pixels * co, kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = flownorm::normalize_value(y[i], mn, mx);
  });
  st.min = static_cast<double>(mn);
  st.max = static_cast<double>(mx);
  return st;
}

template <class T>
void flow_normalize_backward_cpu(const T* x, const T* grad_y, const FlowNormalizeDims& d,
                                 const FlowNormalizeStats& st, T* grad_x) {
  const int64_t co = d.out_channels();
  const T inv_c = d.channel_mean ? T(1) / T(d.c) : T(1);
  FlowNormalizeShares sh;
  if (d.normalize) {
    // G = sum g, R = sum g y, tie counts: per block, then in block order.
    const int64_t nb = num_blocks(d.pixels);
    std::vector<double> bg(static_cast<size_t>(nb)), bgy(static_cast<size_t>(nb));
    std::vector<int64_t> bnmin(static_cast<size_t>(nb)), bnmax(static_cast<size_t>(nb));
    const T mn = T(st.min), mx = T(st.max);
    parallel_for(0, nb, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        double sg = 0, sgy = 0;
        int64_t cmin = 0, cmax = 0;
        const int64_t p0 = b * kBlock, p1 = std::min(d.pixels, p0 + kBlock);
        for (int64_t p = p0; p < p1; ++p) {
          for (int64_t k = 0; k < co; ++k) {
            const T m = d.channel_mean ? flownorm::reduce_channels(x + p * d.c, d.c, true)
                                       : x[p * d.c + k];
            const T g = grad_y[p * co + k];
            sg += static_cast<double>(g);
            sgy += static_cast<double>(g) * static_cast<double>(flownorm::normalize_value(m, mn, mx));
            cmin += m == mn;
            cmax += m == mx;
          }
        }
        bg[static_cast<size_t>(b)] = sg;
        bgy[static_cast<size_t>(b)] = sgy;
        bnmin[static_cast<size_t>(b)] = cmin;
        bnmax[static_cast<size_t>(b)] = cmax;
      }
    });
    double sg = 0, sgy = 0;
    int64_t nmin = 0, nmax = 0;
    for (int64_t b = 0; b < nb; ++b) {
      sg += bg[static_cast<size_t>(b)];
      sgy += bgy[static_cast<size_t>(b)];
      nmin += bnmin[static_cast<size_t>(b)];
      nmax += bnmax[static_cast<size_t>(b)];
    }
    sh = flow_normalize_shares(st, sg, sgy, nmin, nmax, d.pixels * co);
  }
  const T mn = T(st.min), mx = T(st.max);
  const T scale = T(sh.scale), smin = T(sh.min_share), smax = T(sh.max_share);
  parallel_for(0, d.pixels, kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      if (d.channel_mean) {
        const T m = flownorm::reduce_channels(x + p * d.c, d.c, true);
        const T gm = d.normalize ? flownorm::normalize_grad(m, grad_y[p], mn, mx, scale, smin, smax)
                                 : grad_y[p];
        for (int64_t k = 0; k < d.c; ++k) grad_x[p * d.c + k] = gm * inv_c;
      } else {
        for (int64_t k = 0; k < d.c; ++k) {
          const int64_t i = p * d.c + k;
          grad_x[i] = d.normalize ? flownorm::normalize_grad(x[i], grad_y[i], mn, mx, scale, smin, smax)
                                  : grad_y[i];
        }
      }
    }
  });
}

template FlowNormalizeStats flow_normalize_forward_cpu<float>(const float*, const FlowNormalizeDims&,
                                                              float*);
template FlowNormalizeStats flow_normalize_forward_cpu<double>(const double*,
                                                               const FlowNormalizeDims&, double*);
template void flow_normalize_backward_cpu<float>(const float*, const float*,
                                                 const FlowNormalizeDims&,
                                                 const FlowNormalizeStats&, float*);
template void flow_normalize_backward_cpu<double>(const double*, const double*,
                                                  const FlowNormalizeDims&,
                                                  const FlowNormalizeStats&, double*);

}  // namespace asn::kernels
