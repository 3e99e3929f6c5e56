// CPU average pooling (see avg_pool3d.h): one output (forward) or input (backward) position, a row
// of C channels, per work item.
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/pool/avg_pool3d.h"
#include "kernels/pool/pool3d_math.h"

namespace asn::kernels {

namespace {

int64_t window_count(const PoolRange& a, const PoolRange& b, const PoolRange& c) {
  return (a.end - a.begin) * (b.end - b.begin) * (c.end - c.begin);
}

}  // namespace

template <class T>
void avg_pool3d_forward_cpu(const T* x, const Pool3dGeometry& g, T* y) {
  const int64_t C = g.C;
  const Pool3dParams& p = g.p;
  const int64_t positions = g.N * g.To * g.Ho * g.Wo;
  parallel_for(0, positions, 16, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(C));
    for (int64_t q = begin; q < end; ++q) {
      const int64_t wo = q % g.Wo;
      const int64_t ho = (q / g.Wo) % g.Ho;
      const int64_t to = (q / (g.Wo * g.Ho)) % g.To;
      const int64_t n = q / (g.Wo * g.Ho * g.To);
      const PoolRange rt = pool_window(to, g.T, p.kernel[0], p.stride[0], p.pad[0].before);
      const PoolRange rh = pool_window(ho, g.H, p.kernel[1], p.stride[1], p.pad[1].before);
      const PoolRange rw = pool_window(wo, g.W, p.kernel[2], p.stride[2], p.pad[2].before);
      const T* xn = x + n * g.T * g.H * g.W * C;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = rt.begin; t < rt.end; ++t) {
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          for (int64_t w = rw.begin; w < rw.end; ++w) {
            const T* xp = xn + ((t * g.H + h) * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c) acc[static_cast<size_t>(c)] += xp[c];
          }
        }
      }
      // make_pool3d_geometry guarantees at least one real position per window.
      const double inv = 1.0 / static_cast<double>(window_count(rt, rh, rw));
      T* yq = y + q * C;
      for (int64_t c = 0; c < C; ++c) yq[c] = static_cast<T>(acc[static_cast<size_t>(c)] * inv);
    }
  });
}

template <class T>
void avg_pool3d_backward_cpu(const T* gy, const Pool3dGeometry& g, T* gx) {
  const int64_t C = g.C;
  const Pool3dParams& p = g.p;
  const int64_t positions = g.N * g.T * g.H * g.W;
  parallel_for(0, positions, 16, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(C));
    for (int64_t q = begin; q < end; ++q) {
      const int64_t w = q % g.W;
      const int64_t h = (q / g.W) % g.H;
      const int64_t t = (q / (g.W * g.H)) % g.T;
      const int64_t n = q / (g.W * g.H * g.T);
      const PoolRange ot =
          pool_outputs_covering(t, g.To, p.kernel[0], p.stride[0], p.pad[0].before);
      const PoolRange oh =
          pool_outputs_covering(h, g.Ho, p.kernel[1], p.stride[1], p.pad[1].before);
      const PoolRange ow =
          pool_outputs_covering(w, g.Wo, p.kernel[2], p.stride[2], p.pad[2].before);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t to = ot.begin; to < ot.end; ++to) {
        const PoolRange rt = pool_window(to, g.T, p.kernel[0], p.stride[0], p.pad[0].before);
        for (int64_t ho = oh.begin; ho < oh.end; ++ho) {
          const PoolRange rh = pool_window(ho, g.H, p.kernel[1], p.stride[1], p.pad[1].before);
          for (int64_t wo = ow.begin; wo < ow.end; ++wo) {
            const PoolRange rw = pool_window(wo, g.W, p.kernel[2], p.stride[2], p.pad[2].before);
            const double inv = 1.0 / static_cast<double>(window_count(rt, rh, rw));
            const T* go = gy + (((n * g.To + to) * g.Ho + ho) * g.Wo + wo) * C;
            for (int64_t c = 0; c < C; ++c) acc[static_cast<size_t>(c)] += go[c] * inv;
          }
        }
      }
      T* gq = gx + q * C;
      for (int64_t c = 0; c < C; ++c) gq[c] = static_cast<T>(acc[static_cast<size_t>(c)]);
    }
  });
}

template void avg_pool3d_forward_cpu<float>(const float*, const Pool3dGeometry&, float*);
template void avg_pool3d_forward_cpu<double>(const double*, const Pool3dGeometry&, double*);
template void avg_pool3d_backward_cpu<float>(const float*, const Pool3dGeometry&, float*);
template void avg_pool3d_backward_cpu<double>(const double*, const Pool3dGeometry&, double*);

}  // namespace asn::kernels
