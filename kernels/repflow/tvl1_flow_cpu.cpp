// CPU implementation of kernels/repflow/tvl1_flow.h: the TV-L1 iterations as full-array passes,
// parallel over image rows (pair, row), every pixel computed by the shared functions of
// tvl1_math.h. Forward and backward side by side; the backward recomputes each checkpoint segment
// and then reverses its iterations one by one.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/parallel.h"
#include "kernels/repflow/tvl1_flow.h"

namespace asn::kernels {

int TvL1Dims::interval() const {
  if (checkpoint_every > 0) return std::min(checkpoint_every, std::max(iterations, 1));
  const int k = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(iterations))));
  return std::max(k, 1);
}

int64_t TvL1Dims::num_checkpoints() const {
  if (pairs() == 0 || iterations <= 0) return 0;
  const int k = interval();
  return (iterations + k - 1) / k - 1;
}

template <class T>
tvl1::Coeffs<T> tvl1_coeffs(const TvL1Params& p) {
  tvl1::Coeffs<T> c{};
  c.eps = T(1e-12);
  c.theta = std::abs(T(p.theta)) + c.eps;
  c.lt = T(p.lambda) * c.theta;
  c.taut = T(p.tau) / c.theta;
  for (int k = 0; k < 3; ++k) {
    c.igx[k] = T(p.img_grad_x[k]);
    c.igy[k] = T(p.img_grad_y[k]);
  }
  for (int k = 0; k < 2; ++k) {
    c.dvx[k] = T(p.f_grad_x[k]);
    c.dvy[k] = T(p.f_grad_y[k]);
    c.fdx[k] = T(p.f_grad_x2[k]);
    c.fdy[k] = T(p.f_grad_y2[k]);
  }
  return c;
}

TvL1ParamGrads tvl1_param_grads_from_slots(const double* s, const TvL1Params& p) {
  using namespace tvl1;
  TvL1ParamGrads g;
  const double th = std::abs(p.theta) + 1e-12;
  // θ enters directly (u += θ div), through lt = lambda θ and through taut = tau / θ.
  const double th_bar = s[kTheta] + s[kLt] * p.lambda - s[kTaut] * p.tau / (th * th);
  g.theta = p.theta > 0 ? th_bar : (p.theta < 0 ? -th_bar : 0.0);
  g.lambda = s[kLt] * th;
  g.tau = s[kTaut] / th;
  for (int k = 0; k < 3; ++k) {
    g.img_grad_x[k] = s[kImgGradX + k];
    g.img_grad_y[k] = s[kImgGradY + k];
  }
  for (int k = 0; k < 2; ++k) {
    g.f_grad_x[k] = s[kDivX + k];
    g.f_grad_y[k] = s[kDivY + k];
    g.f_grad_x2[k] = s[kFwdX + k];
    g.f_grad_y2[k] = s[kFwdY + k];
  }
  return g;
}

namespace {

using tvl1::Coeffs;
constexpr int kSlots = tvl1::kNumSlots;

// One channel of one (pair or frame) plane inside a channels-last array: (i, j) -> base[(i W + j) C].
template <class T>
struct PlaneRef {
  const T* base;
  int64_t w, c;
  T operator()(int i, int j) const { return base[(static_cast<int64_t>(i) * w + j) * c]; }
};

// Sizes and offsets shared by every pass.
struct Layout {
  int64_t t, h, w, c, hwc, pairs, m;
  explicit Layout(const TvL1Dims& d)
      : t(d.t), h(d.h), w(d.w), c(d.c), hwc(d.plane()), pairs(d.pairs()), m(d.state_size()) {}
  // Offset of I0 of pair p inside the image (I1 follows hwc elements later).
  int64_t i0_offset(int64_t p) const {
    const int64_t n = p / (t - 1), tt = p % (t - 1);
    return (n * t + tt) * hwc;
  }
  int64_t rows() const { return pairs * h; }
  int64_t grain() const { return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, w * c)); }
};

// Runs f(p, i, base, j, ch, idx) over every pixel of every channel of every pair, rows in parallel.
// `base` is the offset of channel ch of pair p in a (P, H, W, C) array; idx the pixel's offset.
template <class F>
void for_each_pixel(const Layout& L, const F& f) {
  parallel_for(0, L.rows(), L.grain(), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t p = r / L.h;
      const int i = static_cast<int>(r % L.h);
      for (int j = 0; j < L.w; ++j) {
        for (int64_t ch = 0; ch < L.c; ++ch) {
          const int64_t base = p * L.hwc + ch;
          const int64_t idx = base + (i * L.w + j) * L.c;
          f(r, p, i, j, base, idx);
        }
      }
    }
  });
}

// The precomputed image terms: gx, gy (central gradients of I1) and rho_c = I1 - I0, each M.
template <class T>
void precompute(const T* image, const Layout& L, const Coeffs<T>& c, T* gx, T* gy, T* rho_c) {
  for_each_pixel(L, [&](int64_t, int64_t p, int i, int j, int64_t base, int64_t idx) {
    const int64_t ch = base - p * L.hwc;
    const T* i0 = image + L.i0_offset(p) + ch;
    const T* i1 = i0 + L.hwc;
    const int64_t pix = (i * L.w + j) * L.c;
    tvl1::image_grad_at(c, PlaneRef<T>{i1, L.w, L.c}, i, j, static_cast<int>(L.h),
                        static_cast<int>(L.w), gx[idx], gy[idx]);
    rho_c[idx] = i1[pix] - i0[pix];
  });
}

// One TV-L1 iteration in place on the state s = (u1, u2, p11, p12, p21, p22), each M.
template <class T>
void forward_iteration(T* s, const T* gx, const T* gy, const T* rho_c, const Layout& L,
                       const Coeffs<T>& c) {
  const int h = static_cast<int>(L.h), w = static_cast<int>(L.w);
  T* u1 = s;
  T* u2 = s + L.m;
  T* p11 = s + 2 * L.m;
  T* p12 = s + 3 * L.m;
  T* p21 = s + 4 * L.m;
  T* p22 = s + 5 * L.m;
  // Pass A: u = u + d + θ div(p). Reads p of neighbours, u of the pixel itself: in place is safe.
  for_each_pixel(L, [&](int64_t, int64_t, int i, int j, int64_t base, int64_t idx) {
    const T div1 = tvl1::divergence_at(c, PlaneRef<T>{p11 + base, L.w, L.c},
                                       PlaneRef<T>{p12 + base, L.w, L.c}, i, j, h, w);
    const T div2 = tvl1::divergence_at(c, PlaneRef<T>{p21 + base, L.w, L.c},
                                       PlaneRef<T>{p22 + base, L.w, L.c}, i, j, h, w);
    tvl1::primal_update(c, rho_c[idx], gx[idx], gy[idx], div1, div2, u1[idx], u2[idx]);
  });
  // Pass B: p = (p + taut ∇u) / n. Reads u of neighbours, p of the pixel itself.
  for_each_pixel(L, [&](int64_t, int64_t, int i, int j, int64_t base, int64_t idx) {
    T a, b;
    tvl1::forward_diff_at(c, PlaneRef<T>{u1 + base, L.w, L.c}, i, j, h, w, a, b);
    tvl1::dual_update(c, a, b, p11[idx], p12[idx]);
    tvl1::forward_diff_at(c, PlaneRef<T>{u2 + base, L.w, L.c}, i, j, h, w, a, b);
    tvl1::dual_update(c, a, b, p21[idx], p22[idx]);
  });
}

// Reverse of one iteration. s0 = state before it, s1 = state after it. On entry `ub` (2 M) and `pb`
// (4 M) hold the gradients of s1's (u1, u2) and (p11, p12, p21, p22); on exit `ub_out` holds those
// of s0's u and `pb` those of s0's p. `ab` (4 M) is scratch. gx_bar, gy_bar, rc_bar accumulate.
template <class T>
void backward_iteration(const T* s0, const T* s1, T* ub, T* ub_out, T* pb, T* ab, const T* gx,
                        const T* gy, const T* rho_c, T* gx_bar, T* gy_bar, T* rc_bar,
                        double* acc, bool want_params, const Layout& L, const Coeffs<T>& c) {
  using namespace tvl1;
  const int h = static_cast<int>(L.h), w = static_cast<int>(L.w);
  const int64_t m = L.m;
  // Pass 1: reverse of the dual update. a_bar / b_bar of both flow components into ab; the direct
  // part of the old duals' gradients into pb (in place: each pixel reads and writes only itself).
  for_each_pixel(L, [&](int64_t r, int64_t, int i, int j, int64_t base, int64_t idx) {
    double* racc = acc + r * kSlots;
    for (int comp = 0; comp < 2; ++comp) {
      const PlaneRef<T> u{s1 + comp * m + base, L.w, L.c};
      T a, b;
      forward_diff_at(c, u, i, j, h, w, a, b);
      const int64_t pa = (2 + 2 * comp) * m + idx, pbi = (3 + 2 * comp) * m + idx;
      T a_bar, b_bar, pa_bar, pb_bar;
      double taut_acc = 0;
      dual_adjoint(c, a, b, s1[pa], s1[pbi], pb[pa - 2 * m], pb[pbi - 2 * m], a_bar, b_bar, pa_bar,
                   pb_bar, taut_acc);
      pb[pa - 2 * m] = pa_bar;
      pb[pbi - 2 * m] = pb_bar;
      ab[(2 * comp) * m + idx] = a_bar;
      ab[(2 * comp + 1) * m + idx] = b_bar;
      if (want_params) {
        racc[kTaut] += taut_acc;
        forward_diff_taps_at(u, a_bar, b_bar, i, j, h, w, racc);
      }
    }
  });
  // Pass 2: u'_bar += transpose of the forward differences (in place: reads only ab).
  for_each_pixel(L, [&](int64_t, int64_t, int i, int j, int64_t base, int64_t idx) {
    for (int comp = 0; comp < 2; ++comp) {
      ub[comp * m + idx] += forward_diff_adjoint_at(c, PlaneRef<T>{ab + 2 * comp * m + base, L.w, L.c},
                                                    PlaneRef<T>{ab + (2 * comp + 1) * m + base, L.w, L.c},
                                                    i, j);
    }
  });
  // Pass 3: reverse of u' = u + d + θ div(p): the divergence's transpose into pb, the data term
  // into ub_out and the image-term gradients (reads ub of neighbours, so ub_out is a second buffer).
  for_each_pixel(L, [&](int64_t r, int64_t, int i, int j, int64_t base, int64_t idx) {
    double* racc = acc + r * kSlots;
    const T gxv = gx[idx], gyv = gy[idx];
    const T u1 = s0[idx], u2 = s0[m + idx];
    const T grad = grad_sq(c, gxv, gyv);
    const T rho = residual(c, rho_c[idx], gxv, gyv, u1, u2);
    const int branch = data_branch(c, rho, grad);
    const T ub1 = ub[idx], ub2 = ub[m + idx];
    for (int comp = 0; comp < 2; ++comp) {
      const PlaneRef<T> ubv{ub + comp * m + base, L.w, L.c};
      T pa_bar, pb_bar;
      divergence_adjoint_at(c, ubv, i, j, h, w, pa_bar, pb_bar);
      pb[(2 * comp) * m + idx] += pa_bar;
      pb[(2 * comp + 1) * m + idx] += pb_bar;
      if (want_params) {
        T sx0, sx1, sy0, sy1;
        divergence_terms_at<T>(PlaneRef<T>{s0 + (2 + 2 * comp) * m + base, L.w, L.c},
                               PlaneRef<T>{s0 + (3 + 2 * comp) * m + base, L.w, L.c}, i, j, h, w,
                               sx0, sx1, sy0, sy1);
        const T u_bar = ubv(i, j);
        const T div = (c.dvx[0] * sx0 + c.dvx[1] * sx1) + (c.dvy[0] * sy0 + c.dvy[1] * sy1);
        const T d_bar = c.theta * u_bar;
        racc[kTheta] += double(u_bar * div);
        racc[kDivX + 0] += double(d_bar * sx0);
        racc[kDivX + 1] += double(d_bar * sx1);
        racc[kDivY + 0] += double(d_bar * sy0);
        racc[kDivY + 1] += double(d_bar * sy1);
      }
    }
    T u1_bar = ub1, u2_bar = ub2;  // v = u + d: the gradient passes straight through
    double lt_acc = 0;
    data_adjoint(c, branch, rho, gxv, gyv, grad, u1, u2, ub1, ub2, u1_bar, u2_bar, gx_bar[idx],
                 gy_bar[idx], rc_bar[idx], lt_acc);
    ub_out[idx] = u1_bar;
    ub_out[m + idx] = u2_bar;
    if (want_params) racc[kLt] += lt_acc;
  });
}

}  // namespace

template <class T>
void tvl1_flow_forward_cpu(const T* image, const TvL1Dims& d, const TvL1Params& prm, T* flow,
                           T* checkpoints) {
  const Layout L(d);
  const int64_t frame_out = d.h * d.w * 2 * d.c;
  if (L.pairs == 0) {  // T == 1: no frame pair, zero flow (documented choice)
    std::fill(flow, flow + d.n * d.t * frame_out, T(0));
    return;
  }
  const Coeffs<T> c = tvl1_coeffs<T>(prm);
  const int64_t m = L.m;
  std::vector<T> pre(3 * static_cast<size_t>(m));
  T* gx = pre.data();
  T* gy = gx + m;
  T* rho_c = gy + m;
  precompute(image, L, c, gx, gy, rho_c);

  std::vector<T> state(6 * static_cast<size_t>(m), T(0));
  const int k_every = d.interval();
  for (int k = 0; k < d.iterations; ++k) {
    forward_iteration(state.data(), gx, gy, rho_c, L, c);
    const int done = k + 1;
    if (checkpoints != nullptr && done % k_every == 0 && done < d.iterations) {
      std::memcpy(checkpoints + (done / k_every - 1) * 6 * m, state.data(), 6 * m * sizeof(T));
    }
  }
  // flow[n, t] = (u1 of every channel, u2 of every channel) of pair (n, min(t, T-2)).
  const T* u1 = state.data();
  const T* u2 = u1 + m;
  parallel_for(0, d.n * d.t * d.h, L.grain(), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / (d.t * d.h), t = (r / d.h) % d.t, i = r % d.h;
      const int64_t p = n * (d.t - 1) + std::min<int64_t>(t, d.t - 2);
      for (int64_t j = 0; j < d.w; ++j) {
        const int64_t src = p * L.hwc + (i * d.w + j) * d.c;
        T* dst = flow + ((r * d.w) + j) * 2 * d.c;
        for (int64_t ch = 0; ch < d.c; ++ch) {
          dst[ch] = u1[src + ch];
          dst[d.c + ch] = u2[src + ch];
        }
      }
    }
  });
}

template <class T>
void tvl1_flow_backward_cpu(const T* image, const T* checkpoints, const T* grad_flow,
                            const TvL1Dims& d, const TvL1Params& prm, T* grad_image,
                            TvL1ParamGrads* grad_params) {
  const Layout L(d);
  if (L.pairs == 0) {  // the flow is constant zero: every gradient is zero
    if (grad_image != nullptr) std::fill(grad_image, grad_image + d.n * d.t * L.hwc, T(0));
    if (grad_params != nullptr) *grad_params = TvL1ParamGrads{};
    return;
  }
  using namespace tvl1;
  const Coeffs<T> c = tvl1_coeffs<T>(prm);
  const int64_t m = L.m;
  const bool want_params = grad_params != nullptr;
  std::vector<T> pre(3 * static_cast<size_t>(m));
  T* gx = pre.data();
  T* gy = gx + m;
  T* rho_c = gy + m;
  precompute(image, L, c, gx, gy, rho_c);

  // Gradients of the final u: the flow frame t < T-1 of pair (n, t), plus the duplicated frame T-1
  // for the last pair of each clip. The final p gets no gradient.
  std::vector<T> ub(2 * static_cast<size_t>(m)), ub_out(2 * static_cast<size_t>(m));
  std::vector<T> pb(4 * static_cast<size_t>(m), T(0));
  parallel_for(0, L.rows(), L.grain(), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t p = r / d.h, i = r % d.h;
      const int64_t n = p / (d.t - 1), t = p % (d.t - 1);
      const bool last = t == d.t - 2;
      for (int64_t j = 0; j < d.w; ++j) {
        const T* g = grad_flow + (((n * d.t + t) * d.h + i) * d.w + j) * 2 * d.c;
        const T* g2 = g + d.h * d.w * 2 * d.c;  // frame t + 1 (the duplicate when last)
        const int64_t dst = p * L.hwc + (i * d.w + j) * d.c;
        for (int64_t ch = 0; ch < d.c; ++ch) {
          ub[dst + ch] = last ? g[ch] + g2[ch] : g[ch];
          ub[m + dst + ch] = last ? g[d.c + ch] + g2[d.c + ch] : g[d.c + ch];
        }
      }
    }
  });

  std::vector<T> ab(4 * static_cast<size_t>(m));
  std::vector<T> bars(3 * static_cast<size_t>(m), T(0));
  T* gx_bar = bars.data();
  T* gy_bar = gx_bar + m;
  T* rc_bar = gy_bar + m;
  std::vector<double> acc(want_params ? static_cast<size_t>(L.rows()) * kSlots : 0, 0.0);

  const int k_every = d.interval();
  const int num_segments = (d.iterations + k_every - 1) / k_every;
  std::vector<T> seg(static_cast<size_t>(std::min(k_every, d.iterations) + 1) * 6 *
                     static_cast<size_t>(m));
  for (int s = num_segments - 1; s >= 0; --s) {
    const int k0 = s * k_every;
    const int k1 = std::min(k0 + k_every, d.iterations);
    // Recompute the states of this segment: slot q holds the state before iteration k0 + q.
    if (s == 0) {
      std::fill(seg.begin(), seg.begin() + 6 * m, T(0));
    } else {
      ASN_CHECK(checkpoints != nullptr, "tvl1_flow backward: checkpoints are missing");
      std::memcpy(seg.data(), checkpoints + (s - 1) * 6 * m, 6 * m * sizeof(T));
    }
    for (int k = k0; k < k1; ++k) {
      T* dst = seg.data() + (k - k0 + 1) * 6 * m;
      std::memcpy(dst, dst - 6 * m, 6 * m * sizeof(T));
      forward_iteration(dst, gx, gy, rho_c, L, c);
    }
    for (int k = k1 - 1; k >= k0; --k) {
      const T* s0 = seg.data() + (k - k0) * 6 * m;
      backward_iteration(s0, s0 + 6 * m, ub.data(), ub_out.data(), pb.data(), ab.data(), gx, gy,
                         rho_c, gx_bar, gy_bar, rc_bar, acc.data(), want_params, L, c);
      ub.swap(ub_out);
    }
  }

  // Image gradients: I1 receives rho_c_bar and the transposed central gradients, I0 receives
  // -rho_c_bar. Frame t of a clip is I0 of pair t and I1 of pair t - 1 (gathered, no races).
  const int h = static_cast<int>(d.h), w = static_cast<int>(d.w);
  if (grad_image != nullptr) {
    parallel_for(0, d.n * d.t * d.h, L.grain(), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / (d.t * d.h), t = (r / d.h) % d.t;
        const int i = static_cast<int>(r % d.h);
        for (int j = 0; j < w; ++j) {
          for (int64_t ch = 0; ch < d.c; ++ch) {
            const int64_t pix = (i * d.w + j) * d.c + ch;
            T g = T(0);
            if (t < d.t - 1) g -= rc_bar[(n * (d.t - 1) + t) * L.hwc + pix];
            if (t >= 1) {
              const int64_t prev = (n * (d.t - 1) + t - 1) * L.hwc;  // pair (n, t - 1)
              g += rc_bar[prev + pix] +
                   image_grad_adjoint_at(c, PlaneRef<T>{gx_bar + prev + ch, d.w, d.c},
                                         PlaneRef<T>{gy_bar + prev + ch, d.w, d.c}, i, j, h, w);
            }
            grad_image[((n * d.t + t) * d.h + i) * d.w * d.c + j * d.c + ch] = g;
          }
        }
      }
    });
  }
  if (want_params) {
    for_each_pixel(L, [&](int64_t r, int64_t p, int i, int j, int64_t base, int64_t idx) {
      const int64_t ch = base - p * L.hwc;
      image_grad_taps_at(PlaneRef<T>{image + L.i0_offset(p) + L.hwc + ch, d.w, d.c}, gx_bar[idx],
                         gy_bar[idx], i, j, h, w, acc.data() + r * kSlots);
    });
    double slots[kSlots] = {0};
    for (int64_t r = 0; r < L.rows(); ++r)
      for (int k = 0; k < kSlots; ++k) slots[k] += acc[static_cast<size_t>(r * kSlots + k)];
    *grad_params = tvl1_param_grads_from_slots(slots, prm);
  }
}

template tvl1::Coeffs<float> tvl1_coeffs<float>(const TvL1Params&);
template tvl1::Coeffs<double> tvl1_coeffs<double>(const TvL1Params&);
template void tvl1_flow_forward_cpu<float>(const float*, const TvL1Dims&, const TvL1Params&, float*,
                                           float*);
template void tvl1_flow_forward_cpu<double>(const double*, const TvL1Dims&, const TvL1Params&,
                                            double*, double*);
template void tvl1_flow_backward_cpu<float>(const float*, const float*, const float*,
                                            const TvL1Dims&, const TvL1Params&, float*,
                                            TvL1ParamGrads*);
template void tvl1_flow_backward_cpu<double>(const double*, const double*, const double*,
                                             const TvL1Dims&, const TvL1Params&, double*,
                                             TvL1ParamGrads*);

}  // namespace asn::kernels
