// CPU gated_sum (see gated_sum.h). Forward: one work item per output position (a row of C
// channels). Backward: one work item per frame (n, t), so the per-(n, t, c) sums over (h, w) stay
// inside one item and the dw partials are one per (input, frame), added afterwards in a fixed
// order: the result does not depend on the thread count.
#include <vector>

#include "engine/parallel.h"
#include "kernels/fusion/gated_sum.h"
#include "kernels/fusion/gated_sum_math.h"

namespace asn::kernels {

namespace {

template <class T>
const T* gate_of(const GatedSumTensors<T>& in, size_t j) {
  return in.gate.empty() ? nullptr : in.gate[j];
}

// The resized row m_j[n, t, ho, wo, :] of one input, read from its frame (H, W, C). For the
// identity resize this is the input row itself; otherwise the window max is written to `m` (the
// first maximal element in (h, w) scan order wins) and `m` is returned. When `arg` is given it
// receives each channel's winning position h * W + w.
template <class T>
const T* resized_row(const T* frame, const GatedSumInput& in, int64_t ho, int64_t wo, int64_t C,
                     T* m, int32_t* arg) {
  if (in.r == 1) {
    const int64_t pos = ho * in.W + wo;
    if (arg)
      for (int64_t c = 0; c < C; ++c) arg[c] = static_cast<int32_t>(pos);
    return frame + pos * C;
  }
  const PoolRange rh = gated_sum_window(ho, in.H, in.r, in.pad_h);
  const PoolRange rw = gated_sum_window(wo, in.W, in.r, in.pad_w);
  const int64_t first = rh.begin * in.W + rw.begin;
  const T* xf = frame + first * C;
  for (int64_t c = 0; c < C; ++c) m[c] = xf[c];
  if (arg)
    for (int64_t c = 0; c < C; ++c) arg[c] = static_cast<int32_t>(first);
  for (int64_t h = rh.begin; h < rh.end; ++h) {
    for (int64_t w = rw.begin; w < rw.end; ++w) {
      const int64_t pos = h * in.W + w;
      if (pos == first) continue;
      const T* xp = frame + pos * C;
      if (arg) {
        const int32_t pos32 = static_cast<int32_t>(pos);
        for (int64_t c = 0; c < C; ++c) {  // branch-free: vectorises
          const bool take = gated_sum_replaces(xp[c], m[c]);
          m[c] = take ? xp[c] : m[c];
          arg[c] = take ? pos32 : arg[c];
        }
      } else {
        for (int64_t c = 0; c < C; ++c) m[c] = gated_sum_replaces(xp[c], m[c]) ? xp[c] : m[c];
      }
    }
  }
  return m;
}

}  // namespace

template <class T>
void gated_sum_forward_cpu(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s) {
  const int64_t C = g.C;
  const int64_t positions = g.N * g.T * g.Hs * g.Ws;
  parallel_for(0, positions, 16, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch(static_cast<size_t>(C)), term(static_cast<size_t>(C));
    for (int64_t q = begin; q < end; ++q) {
      const int64_t wo = q % g.Ws;
      const int64_t ho = (q / g.Ws) % g.Hs;
      const int64_t f = q / (g.Ws * g.Hs);  // frame n * T + t
      T* sq = s + q * C;
      for (size_t j = 0; j < g.inputs.size(); ++j) {
        const GatedSumInput& ij = g.inputs[j];
        const T w = in.weights[ij.weight_index];
        const T* m = resized_row(in.x[j] + f * ij.H * ij.W * C, ij, ho, wo, C, scratch.data(),
                                 static_cast<int32_t*>(nullptr));
        T* out = j == 0 ? sq : term.data();
        const T* gate = gate_of(in, j);
        if (gate) {
          const T* a = gate + f * C;
          for (int64_t c = 0; c < C; ++c) out[c] = gated_sum_term(w, m[c], a[c]);
        } else {
          for (int64_t c = 0; c < C; ++c) out[c] = gated_sum_term(w, m[c]);
        }
        // The terms go through memory before they are added, so the compiler cannot contract the
        // product and the sum into one FMA: the sum is rounded exactly as add_n rounds it.
        if (j > 0)
          for (int64_t c = 0; c < C; ++c) sq[c] += term[static_cast<size_t>(c)];
      }
    }
  });
}

template <class T>
void gated_sum_backward_cpu(const GatedSumGeometry& g, const GatedSumTensors<T>& in, const T* ds,
                            const GatedSumGrads<T>& out) {
  const int64_t C = g.C;
  const int64_t frames = g.N * g.T;
  const int64_t hw = g.Hs * g.Ws;
  const size_t n = g.inputs.size();
  // dw partials, one per (input, frame); read only when dweights is asked for.
  std::vector<double> wpart(out.dweights ? n * static_cast<size_t>(frames) : 0, 0.0);
  parallel_for(0, frames, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch(static_cast<size_t>(C)), grad(static_cast<size_t>(C));
    std::vector<int32_t> arg(static_cast<size_t>(C));
    std::vector<double> p(static_cast<size_t>(C));
    for (int64_t f = begin; f < end; ++f) {
      const T* dsf = ds + f * hw * C;
      for (size_t j = 0; j < n; ++j) {
        const GatedSumInput& ij = g.inputs[j];
        T* dx = out.dx.empty() ? nullptr : out.dx[j];
        T* dgate = out.dgate.empty() ? nullptr : out.dgate[j];
        const bool need_p = dgate != nullptr || out.dweights != nullptr;
        if (dx == nullptr && !need_p) continue;
        const T w = in.weights[ij.weight_index];
        const T* gate = gate_of(in, j);
        const T* a = gate ? gate + f * C : nullptr;
        const int64_t frame_size = ij.H * ij.W * C;
        const T* xf = in.x[j] + f * frame_size;
        T* dxf = dx ? dx + f * frame_size : nullptr;
        for (int64_t c = 0; c < C; ++c) p[static_cast<size_t>(c)] = 0.0;
        for (int64_t ho = 0; ho < g.Hs; ++ho) {
          for (int64_t wo = 0; wo < g.Ws; ++wo) {
            const T* m = resized_row(xf, ij, ho, wo, C, scratch.data(), dx ? arg.data() : nullptr);
            const T* dsq = dsf + (ho * g.Ws + wo) * C;
            if (dxf) {
              if (a) {
                for (int64_t c = 0; c < C; ++c) grad[c] = gated_sum_input_grad(w, dsq[c], a[c]);
              } else {
                for (int64_t c = 0; c < C; ++c) grad[c] = gated_sum_input_grad(w, dsq[c]);
              }
              // Every input position lies in exactly one window: write the whole window.
              const PoolRange rh = gated_sum_window(ho, ij.H, ij.r, ij.pad_h);
              const PoolRange rw = gated_sum_window(wo, ij.W, ij.r, ij.pad_w);
              for (int64_t h = rh.begin; h < rh.end; ++h) {
                for (int64_t w2 = rw.begin; w2 < rw.end; ++w2) {
                  const int32_t pos = static_cast<int32_t>(h * ij.W + w2);
                  T* dxp = dxf + static_cast<int64_t>(pos) * C;
                  for (int64_t c = 0; c < C; ++c) dxp[c] = arg[c] == pos ? grad[c] : T(0);
                }
              }
            }
            if (need_p) {
              for (int64_t c = 0; c < C; ++c)
                p[static_cast<size_t>(c)] += gated_sum_p_term(dsq[c], m[c]);
            }
          }
        }
        if (dgate) {
          T* dg = dgate + f * C;
          for (int64_t c = 0; c < C; ++c) dg[c] = gated_sum_gate_grad(w, p[static_cast<size_t>(c)]);
        }
        if (out.dweights) {
          double q = 0;
          for (int64_t c = 0; c < C; ++c)
            q += a ? gated_sum_weight_term(a[c], p[static_cast<size_t>(c)])
                   : p[static_cast<size_t>(c)];
          wpart[j * static_cast<size_t>(frames) + static_cast<size_t>(f)] = q;
        }
      }
    }
  });
  if (out.dweights) {
    for (int64_t k = 0; k < g.num_weights; ++k) {
      double acc = 0;
      for (size_t j = 0; j < n; ++j) {
        if (g.inputs[j].weight_index != k) continue;
        for (int64_t f = 0; f < frames; ++f)
          acc += wpart[j * static_cast<size_t>(frames) + static_cast<size_t>(f)];
      }
      out.dweights[k] = static_cast<T>(acc);
    }
  }
}

#define ASN_INSTANTIATE(T)                                                                        \
  template void gated_sum_forward_cpu<T>(const GatedSumGeometry&, const GatedSumTensors<T>&, T*); \
  template void gated_sum_backward_cpu<T>(const GatedSumGeometry&, const GatedSumTensors<T>&,     \
                                          const T*, const GatedSumGrads<T>&);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
