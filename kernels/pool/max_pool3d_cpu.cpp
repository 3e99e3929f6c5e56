// CPU max pooling (see max_pool3d.h): one output position (a row of C channels) per work item.
#include "engine/parallel.h"
#include "kernels/pool/max_pool3d.h"
#include "kernels/pool/pool3d_math.h"

namespace asn::kernels {

template <class T>
void max_pool3d_forward_cpu(const T* x, const Pool3dGeometry& g, T* y, int32_t* argmax) {
  const int64_t C = g.C;
  const Pool3dParams& p = g.p;
  const int64_t positions = g.N * g.To * g.Ho * g.Wo;
  parallel_for(0, positions, 16, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const int64_t wo = q % g.Wo;
      const int64_t ho = (q / g.Wo) % g.Ho;
      const int64_t to = (q / (g.Wo * g.Ho)) % g.To;
      const int64_t n = q / (g.Wo * g.Ho * g.To);
      const PoolRange rt = pool_window(to, g.T, p.kernel[0], p.stride[0], p.pad[0].before);
      const PoolRange rh = pool_window(ho, g.H, p.kernel[1], p.stride[1], p.pad[1].before);
      const PoolRange rw = pool_window(wo, g.W, p.kernel[2], p.stride[2], p.pad[2].before);
      const T* xn = x + n * g.T * g.H * g.W * C;
      T* yq = y + q * C;
      int32_t* aq = argmax ? argmax + q * C : nullptr;
      // Start from the first window element, then let strictly greater values (or a first NaN)
      // replace it: the first maximum in scan order wins.
      const int64_t first = (rt.begin * g.H + rh.begin) * g.W + rw.begin;
      for (int64_t c = 0; c < C; ++c) yq[c] = xn[first * C + c];
      if (aq)
        for (int64_t c = 0; c < C; ++c) aq[c] = static_cast<int32_t>(first);
      for (int64_t t = rt.begin; t < rt.end; ++t) {
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          for (int64_t w = rw.begin; w < rw.end; ++w) {
            const int64_t pos = (t * g.H + h) * g.W + w;
            if (pos == first) continue;
            const T* xp = xn + pos * C;
            if (aq) {
              const int32_t pos32 = static_cast<int32_t>(pos);
              for (int64_t c = 0; c < C; ++c) {  // branch-free: vectorises
                const T v = xp[c];
                const T best = yq[c];
                const bool take = v > best || (v != v && best == best);
                yq[c] = take ? v : best;
                aq[c] = take ? pos32 : aq[c];
              }
            } else {
              for (int64_t c = 0; c < C; ++c) {
                const T v = xp[c];
                const T best = yq[c];
                yq[c] = (v > best || (v != v && best == best)) ? v : best;
              }
            }
          }
        }
      }
    }
  });
}

template <class T>
void max_pool3d_backward_cpu(const T* gy, const int32_t* argmax, const Pool3dGeometry& g, T* gx) {
  const int64_t C = g.C;
  const Pool3dParams& p = g.p;
  const int64_t positions = g.N * g.T * g.H * g.W;
  parallel_for(0, positions, 16, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const int64_t w = q % g.W;
      const int64_t h = (q / g.W) % g.H;
      const int64_t t = (q / (g.W * g.H)) % g.T;
      const int64_t n = q / (g.W * g.H * g.T);
      const int32_t self = static_cast<int32_t>((t * g.H + h) * g.W + w);
      const PoolRange ot =
          pool_outputs_covering(t, g.To, p.kernel[0], p.stride[0], p.pad[0].before);
      const PoolRange oh =
          pool_outputs_covering(h, g.Ho, p.kernel[1], p.stride[1], p.pad[1].before);
      const PoolRange ow =
          pool_outputs_covering(w, g.Wo, p.kernel[2], p.stride[2], p.pad[2].before);
      T* gq = gx + q * C;
      for (int64_t c = 0; c < C; ++c) gq[c] = T(0);
      for (int64_t to = ot.begin; to < ot.end; ++to) {
        for (int64_t ho = oh.begin; ho < oh.end; ++ho) {
          for (int64_t wo = ow.begin; wo < ow.end; ++wo) {
            const int64_t o = ((n * g.To + to) * g.Ho + ho) * g.Wo + wo;
            const T* go = gy + o * C;
            const int32_t* ao = argmax + o * C;
            for (int64_t c = 0; c < C; ++c) gq[c] += ao[c] == self ? go[c] : T(0);
          }
        }
      }
    }
  });
}

template void max_pool3d_forward_cpu<float>(const float*, const Pool3dGeometry&, float*, int32_t*);
template void max_pool3d_forward_cpu<double>(const double*, const Pool3dGeometry&, double*,
                                             int32_t*);
template void max_pool3d_backward_cpu<float>(const float*, const int32_t*, const Pool3dGeometry&,
                                             float*);
template void max_pool3d_backward_cpu<double>(const double*, const int32_t*, const Pool3dGeometry&,
                                              double*);

}  // namespace asn::kernels
