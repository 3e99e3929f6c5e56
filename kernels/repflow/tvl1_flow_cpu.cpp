// CPU implementation of kernels/repflow/tvl1_flow.h, plane by plane.
//
// A plane is one channel of one frame pair (H x W). Planes are independent, so the work is a
// static parallel_for over planes: one thread runs all L iterations of a plane while its state
// (6 arrays) and image terms (3 arrays) sit in the core's cache (about 450 KB at 112 x 112 in f32),
// instead of sweeping the whole tensor from memory once per iteration. A plane's results depend
// only on the plane, so they do not depend on the thread count. With fewer planes than threads the
// forward pass instead splits every pass over the rows of all planes (forward_banded), with the
// same per-row code and the same results; the backward pass stays plane by plane.
//
// Working arrays are padded copies of a plane: (H + 2) x (W + 2) with image pixel (i, j) at row
// i + 1, column j + 1 (Grid below). The pad ring is zero and never written, so every neighbour read
// of a border rule that is "zero outside the image" is a plain load; the two rules that are not
// (the divergence drops pa[i, W-1] and pb[H-1, j]) are selects with a column mask and a row flag.
// Rows are processed in SIMD packs (tvl1_simd.h) by the value functions of tvl1_math.h, the same
// expressions the GPU runs; the last pack of a row loads and stores only the lanes inside the row.
//
// One iteration is one pass over the rows (a row-delayed pipeline): pass A (u update) of row i + 1,
// then pass B (p update) of row i. Pass A of row i + 1 reads p of rows i and i + 1 before pass B of
// row i overwrites row i, and pass B of row i reads u of rows i and i + 1 after pass A updated
// them, so the fused order computes exactly the two full-array passes, in place or out of place.
//
// The backward pass works plane by plane too: it recomputes each checkpoint segment of the plane
// from its checkpoint into a per-thread buffer and reverses the iterations one by one, again as a
// row pipeline (dual-update adjoint and transposed forward differences of row i + 1, then the
// divergence transpose and data-term adjoint of row i). Parameter gradients are summed per row in
// packs of T, then lane by lane in double per plane, then over planes in plane order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "engine/error.h"
#include "engine/parallel.h"
#include "kernels/repflow/tvl1_flow.h"
#include "kernels/repflow/tvl1_simd.h"

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
using tvl1::Pack;
using tvl1::PackMask;
constexpr int kSlots = tvl1::kNumSlots;

// Offsets of a state buffer's arrays (each Grid::area elements) and of the image terms.
enum StateArray : int {
  kU1 = 0, kU2 = 1, kP11 = 2, kP12 = 3, kP21 = 4, kP22 = 5, kStateArrays = 6
};
enum PreArray : int { kGx = 0, kGy = 1, kRhoC = 2, kPreArrays = 3 };

// One channel of one (pair or frame) plane inside a channels-last array: (i, j) -> base[(i W + j) C].
template <class T>
struct PlaneRef {
  const T* base;
  int64_t w, c;
  T operator()(int i, int j) const { return base[(static_cast<int64_t>(i) * w + j) * c]; }
};

// Sizes and offsets of the global (P, H, W, C) arrays.
struct Layout {
  int64_t t, h, w, c, hwc, pairs, m;
  explicit Layout(const TvL1Dims& d)
      : t(d.t), h(d.h), w(d.w), c(d.c), hwc(d.plane()), pairs(d.pairs()), m(d.state_size()) {}
  int64_t planes() const { return pairs * c; }
  // Offset of I0 of pair p inside the image (I1 follows hwc elements later).
  int64_t i0_offset(int64_t p) const {
    const int64_t n = p / (t - 1), tt = p % (t - 1);
    return (n * t + tt) * hwc;
  }
  int64_t grain() const { return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, w * c)); }
};

// A padded plane array: (H + 2) rows of S = W + 2 values, pixel (i, j) at (i + 1) S + j + 1.
struct Grid {
  int h, w;
  int64_t s, area;
  explicit Grid(const Layout& L)
      : h(static_cast<int>(L.h)), w(static_cast<int>(L.w)), s(L.w + 2),
        area((L.h + 2) * (L.w + 2)) {}
  int64_t at(int i, int j) const { return (i + 1) * s + j + 1; }
};

// A padded plane array read through the tvl1_math.h accessor interface (valid (i, j) only).
template <class T>
struct GridRef {
  const T* a;
  const Grid* g;
  T operator()(int i, int j) const { return a[g->at(i, j)]; }
};

// The packs of a row: pack v covers columns [v N, v N + n), n = N except possibly for the last.
// has_right[v]: lanes whose column is <= W - 2 (the divergence's x rule, see tvl1::divergence).
template <class T>
struct Cols {
  static constexpr int N = tvl1::kLanes<T>;
  int full = 0, tail = 0;  // number of full packs; lanes of the last, partial pack (0: none)
  std::vector<PackMask<T>> has_right;
  PackMask<T> all{}, none{};
  explicit Cols(int w) : full(w / N), tail(w % N) {
    for (int v = 0; v * N < w; ++v) has_right.push_back(tvl1::first_lanes<T>(w - 1 - v * N));
    all = tvl1::first_lanes<T>(N);
    none = tvl1::first_lanes<T>(0);
  }
};

// Loads / stores of one pack: all lanes, or (Tail) the first n, the others read as 0.
template <bool Tail, class T>
inline Pack<T> ld(const T* p, int n) {
  if constexpr (Tail) {
    return Pack<T>::load(p, n);
  } else {
    return Pack<T>::load(p);
  }
}
template <bool Tail, class T>
inline void st(T* p, Pack<T> v, int n) {
  if constexpr (Tail) {
    v.store(p, n);
  } else {
    v.store(p);
  }
}

// Calls f(tail_tag, j0, n, pack_index) for every pack of a row.
template <class T, class F>
inline void for_packs(const Cols<T>& cols, const F& f) {
  constexpr int N = Cols<T>::N;
  for (int v = 0; v < cols.full; ++v) f(std::false_type{}, v * N, N, v);
  if (cols.tail > 0) f(std::true_type{}, cols.full * N, cols.tail, cols.full);
}

// --- forward -------------------------------------------------------------------------------------

// Pass A of row i: u = u + d + θ div(p), reading `in` and writing u of `out` (which may be `in`).
template <class T>
void primal_row(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* pre, const T* in,
                T* out, int i) {
  const Pack<T> zero(T(0));
  const bool last_row = i + 1 == g.h;  // sy1 = pb[i, j] is dropped on the last row
  const int64_t row = g.at(i, 0);
  for_packs(cols, [&](auto tail, int j0, int n, int v) {
    constexpr bool Tail = decltype(tail)::value;
    const int64_t o = row + j0;
    // The divergence's shifted values: sx0 = pa[i, j-1] (the pad column at j = 0), sx1 = pa[i, j]
    // unless j = W-1, sy0 = pb[i-1, j] (the pad row at i = 0), sy1 = pb[i, j] unless i = H-1.
    auto div = [&](const T* pa, const T* pb) {
      const Pack<T> sx0 = ld<Tail>(pa + o - 1, n);
      const Pack<T> sx1 = tvl1_select(cols.has_right[v], ld<Tail>(pa + o, n), zero);
      const Pack<T> sy0 = ld<Tail>(pb + o - g.s, n);
      const Pack<T> sy1 = last_row ? zero : ld<Tail>(pb + o, n);
      return tvl1::divergence(c, sx0, sx1, sy0, sy1);
    };
    const Pack<T> div1 = div(in + kP11 * g.area, in + kP12 * g.area);
    const Pack<T> div2 = div(in + kP21 * g.area, in + kP22 * g.area);
    Pack<T> u1 = ld<Tail>(in + kU1 * g.area + o, n);
    Pack<T> u2 = ld<Tail>(in + kU2 * g.area + o, n);
    tvl1::primal_update(c, ld<Tail>(pre + kRhoC * g.area + o, n),
                        ld<Tail>(pre + kGx * g.area + o, n), ld<Tail>(pre + kGy * g.area + o, n),
                        div1, div2, u1, u2);
    st<Tail>(out + kU1 * g.area + o, u1, n);
    st<Tail>(out + kU2 * g.area + o, u2, n);
  });
}

// Pass B of row i: p = (p + taut ∇u) / n with u of `out` (already updated), p read from `in`.
// The forward differences' neighbours u[i, j+1] and u[i+1, j] are the pad (0) outside the image.
template <class T>
void dual_row(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* in, T* out, int i) {
  const int64_t row = g.at(i, 0);
  for_packs(cols, [&](auto tail, int j0, int n, int) {
    constexpr bool Tail = decltype(tail)::value;
    const int64_t o = row + j0;
    for (int comp = 0; comp < 2; ++comp) {
      const T* u = out + (kU1 + comp) * g.area + o;
      Pack<T> a, b;
      tvl1::forward_diff(c, ld<Tail>(u, n), ld<Tail>(u + 1, n), ld<Tail>(u + g.s, n), a, b);
      const int64_t ka = (kP11 + 2 * comp) * g.area + o, kb = ka + g.area;
      Pack<T> pa = ld<Tail>(in + ka, n), pb = ld<Tail>(in + kb, n);
      tvl1::dual_update(c, a, b, pa, pb);
      st<Tail>(out + ka, pa, n);
      st<Tail>(out + kb, pb, n);
    }
  });
}

// One TV-L1 iteration of a plane, state `in` -> state `out` (the same buffer or a distinct one).
template <class T>
void iterate(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* pre, const T* in,
             T* out) {
  primal_row(c, g, cols, pre, in, out, 0);
  for (int i = 0; i < g.h; ++i) {
    if (i + 1 < g.h) primal_row(c, g, cols, pre, in, out, i + 1);
    dual_row(c, g, cols, in, out, i);
  }
}

// gx, gy (central gradients of I1) and rho_c = I1 - I0 of channel ch of pair p, into the padded
// image-term arrays `pre` (whose pads stay 0).
template <class T>
void plane_terms(const T* image, const Layout& L, const Grid& g, const Coeffs<T>& c, int64_t p,
                 int64_t ch, T* pre) {
  const T* i0 = image + L.i0_offset(p) + ch;
  const T* i1 = i0 + L.hwc;
  const PlaneRef<T> img1{i1, L.w, L.c};
  for (int i = 0; i < g.h; ++i) {
    for (int j = 0; j < g.w; ++j) {
      const int64_t o = g.at(i, j), q = (i * L.w + j) * L.c;
      tvl1::image_grad_at(c, img1, i, j, g.h, g.w, pre[kGx * g.area + o], pre[kGy * g.area + o]);
      pre[kRhoC * g.area + o] = i1[q] - i0[q];
    }
  }
}

// Copies `count` padded arrays of a plane to / from the global (count, P, H, W, C) layout whose
// plane starts at `base` (= p * hwc + ch) inside each M-element array.
template <class T>
void scatter_plane(const T* src, const Grid& g, const Layout& L, int count, int64_t base, T* dst) {
  for (int a = 0; a < count; ++a)
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j)
        dst[a * L.m + base + (i * L.w + j) * L.c] = src[a * g.area + g.at(i, j)];
}
template <class T>
void gather_plane(const T* src, const Grid& g, const Layout& L, int count, int64_t base, T* dst) {
  for (int a = 0; a < count; ++a)
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j)
        dst[a * g.area + g.at(i, j)] = src[a * L.m + base + (i * L.w + j) * L.c];
}

// After `done` iterations: the plane's state into its checkpoint slot, if one is due.
template <class T>
void store_checkpoint(const T* state, const TvL1Dims& d, const Layout& L, const Grid& g,
                      int64_t plane, int done, T* checkpoints) {
  const int k_every = d.interval();
  if (checkpoints == nullptr || done % k_every != 0 || done >= d.iterations) return;
  scatter_plane(state, g, L, kStateArrays, (plane / L.c) * L.hwc + plane % L.c,
                checkpoints + (done / k_every - 1) * kStateArrays * L.m);
}

// flow[n, t] = (u1 of every channel, u2 of every channel) of pair (n, min(t, T-2)): the plane's u
// at frame t of its pair, and again at frame t + 1 for the last pair of a clip.
template <class T>
void write_flow(const T* state, const TvL1Dims& d, const Layout& L, const Grid& g, int64_t plane,
                T* flow) {
  const int64_t p = plane / L.c, ch = plane % L.c;
  const int64_t n = p / (d.t - 1), t = p % (d.t - 1);
  const bool last = t == d.t - 2;
  const int64_t frame_out = d.h * d.w * 2 * d.c;
  for (int i = 0; i < g.h; ++i)
    for (int j = 0; j < g.w; ++j) {
      T* dst = flow + (((n * d.t + t) * d.h + i) * d.w + j) * 2 * d.c + ch;
      const T u1 = state[kU1 * g.area + g.at(i, j)], u2 = state[kU2 * g.area + g.at(i, j)];
      dst[0] = u1;
      dst[d.c] = u2;
      if (last) {
        dst[frame_out] = u1;
        dst[frame_out + d.c] = u2;
      }
    }
}

// The forward pass when there are fewer planes than threads: all planes at once, every iteration
// as two parallel sweeps over the (plane, row) pairs, pass A on every row and then pass B on every
// row. Each row runs the same code as in iterate(), and the two sweeps compute what its row
// pipeline computes (pass A reads only p, pass B the updated u and its own pixel's p), so the
// results are bitwise those of the plane-by-plane path, whatever the thread count.
template <class T>
void forward_banded(const T* image, const TvL1Dims& d, const Layout& L, const Grid& g,
                    const Cols<T>& cols, const Coeffs<T>& c, T* flow, T* checkpoints) {
  const int64_t planes = L.planes(), rows = planes * g.h;
  const int64_t pa = kPreArrays * g.area, sa = kStateArrays * g.area;
  std::vector<T> pre(static_cast<size_t>(planes * pa), T(0));
  std::vector<T> state(static_cast<size_t>(planes * sa), T(0));
  for (int64_t plane = 0; plane < planes; ++plane)
    plane_terms(image, L, g, c, plane / L.c, plane % L.c, pre.data() + plane * pa);
  for (int k = 0; k < d.iterations; ++k) {
    parallel_for(0, rows, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        T* s = state.data() + (r / g.h) * sa;
        primal_row(c, g, cols, pre.data() + (r / g.h) * pa, s, s, static_cast<int>(r % g.h));
      }
    });
    parallel_for(0, rows, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        T* s = state.data() + (r / g.h) * sa;
        dual_row(c, g, cols, s, s, static_cast<int>(r % g.h));
      }
    });
    for (int64_t plane = 0; plane < planes; ++plane)
      store_checkpoint(state.data() + plane * sa, d, L, g, plane, k + 1, checkpoints);
  }
  for (int64_t plane = 0; plane < planes; ++plane)
    write_flow(state.data() + plane * sa, d, L, g, plane, flow);
}

// --- backward ------------------------------------------------------------------------------------

// Parameter-gradient sums of one plane: `row` collects one pipeline step in packs of T, flush()
// adds it lane by lane to `lanes` in double; add_to() sums the lanes in order. The lanes of a
// partial pack past the row's end add exactly 0: all their loads read 0, which makes every
// contribution a product with a zero gradient (the data term takes branch 2 or 0 there, with
// s = 0), so they need no masking.
template <class T>
struct ParamAcc {
  static constexpr int N = tvl1::kLanes<T>;
  using Wide = typename tvl1::PackTypes<T>::Wide;
  Pack<T> row[kSlots];
  Wide lanes[kSlots];
  void clear() {
    for (int k = 0; k < kSlots; ++k) {
      row[k] = Pack<T>(T(0));
      lanes[k] = Wide{};
    }
  }
  void flush() {
    for (int k = 0; k < kSlots; ++k) {
      tvl1::add_widened(lanes[k], row[k]);
      row[k] = Pack<T>(T(0));
    }
  }
  void add_to(double* slots) const {
    for (int k = 0; k < kSlots; ++k) {
      double s = 0;
      for (int l = 0; l < N; ++l) s += lanes[k][l];
      slots[k] += s;
    }
  }
};

// Buffers of one reverse iteration of a plane (all padded arrays of Grid::area elements).
template <class T>
struct AdjointBufs {
  const T* pre;  // gx, gy, rho_c
  T* ub;         // 2: gradients of the iteration's output u1, u2 (updated in place by pass 2)
  T* ub_out;     // 2: gradients of its input u1, u2
  T* pb;         // 4: gradients of the output duals in, of the input duals out (in place)
  T* ab;         // 4: a_bar, b_bar of u1, then of u2 (scratch)
  T* bars;       // 3: gx_bar, gy_bar, rho_c_bar (accumulated)
};

// Pass 1 of row i: reverse of the dual update. a_bar / b_bar into ab, the direct part of the old
// duals' gradients into pb; taut and the forward-difference taps into acc.
template <bool Params, class T>
void dual_adjoint_row(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* s1,
                      const AdjointBufs<T>& B, ParamAcc<T>& acc, int i) {
  const int64_t row = g.at(i, 0);
  for_packs(cols, [&](auto tail, int j0, int n, int) {
    constexpr bool Tail = decltype(tail)::value;
    const int64_t o = row + j0;
    Pack<T>* racc = acc.row;
    for (int comp = 0; comp < 2; ++comp) {
      const T* u = s1 + (kU1 + comp) * g.area + o;
      const Pack<T> here = ld<Tail>(u, n), right = ld<Tail>(u + 1, n),
                    down = ld<Tail>(u + g.s, n);
      Pack<T> a, b;
      tvl1::forward_diff(c, here, right, down, a, b);
      const int64_t ka = (kP11 + 2 * comp) * g.area + o, kb = ka + g.area;
      const int64_t qa = 2 * comp * g.area + o, qb = qa + g.area;  // in pb (4) and ab (4)
      Pack<T> a_bar, b_bar, pa_bar, pb_bar;
      Pack<T> taut_acc(T(0));
      tvl1::dual_adjoint(c, a, b, ld<Tail>(s1 + ka, n), ld<Tail>(s1 + kb, n),
                         ld<Tail>(B.pb + qa, n), ld<Tail>(B.pb + qb, n), a_bar, b_bar, pa_bar,
                         pb_bar, taut_acc);
      st<Tail>(B.pb + qa, pa_bar, n);
      st<Tail>(B.pb + qb, pb_bar, n);
      st<Tail>(B.ab + qa, a_bar, n);
      st<Tail>(B.ab + qb, b_bar, n);
      if constexpr (Params) {
        racc[tvl1::kTaut] += taut_acc;
        tvl1::forward_diff_taps(here, right, down, a_bar, b_bar, racc);
      }
    }
  });
}

// Pass 2 of row i: u'_bar += transposed forward differences (a_bar[i, j-1] and b_bar[i-1, j] are
// the pads outside the image). Reads ab of rows i - 1 and i.
template <class T>
void forward_diff_adjoint_row(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols,
                              const AdjointBufs<T>& B, int i) {
  const int64_t row = g.at(i, 0);
  for_packs(cols, [&](auto tail, int j0, int n, int) {
    constexpr bool Tail = decltype(tail)::value;
    const int64_t o = row + j0;
    for (int comp = 0; comp < 2; ++comp) {
      const T* a = B.ab + 2 * comp * g.area + o;
      const T* b = a + g.area;
      T* ub = B.ub + comp * g.area + o;
      Pack<T> v = ld<Tail>(ub, n);
      v += tvl1::forward_diff_adjoint(c, ld<Tail>(a, n), ld<Tail>(b, n), ld<Tail>(a - 1, n),
                                      ld<Tail>(b - g.s, n));
      st<Tail>(ub, v, n);
    }
  });
}

// Pass 3 of row i: the divergence's transpose into pb, the data term's adjoint into ub_out and the
// image-term gradients, θ / lt / divergence taps into acc. Reads u'_bar of rows i and i + 1.
template <bool Params, class T>
void primal_adjoint_row(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* s0,
                        const AdjointBufs<T>& B, ParamAcc<T>& acc, int i) {
  const Pack<T> zero(T(0));
  const bool last_row = i + 1 == g.h;
  const PackMask<T> has_down = last_row ? cols.none : cols.all;
  const int64_t row = g.at(i, 0);
  for_packs(cols, [&](auto tail, int j0, int n, int v) {
    constexpr bool Tail = decltype(tail)::value;
    const int64_t o = row + j0;
    Pack<T>* racc = acc.row;
    const Pack<T> gx = ld<Tail>(B.pre + kGx * g.area + o, n);
    const Pack<T> gy = ld<Tail>(B.pre + kGy * g.area + o, n);
    const Pack<T> u1 = ld<Tail>(s0 + kU1 * g.area + o, n);
    const Pack<T> u2 = ld<Tail>(s0 + kU2 * g.area + o, n);
    const Pack<T> grad = tvl1::grad_sq(c, gx, gy);
    const Pack<T> rho = tvl1::residual(c, ld<Tail>(B.pre + kRhoC * g.area + o, n), gx, gy, u1, u2);
    Pack<T> ubv[2];
    for (int comp = 0; comp < 2; ++comp) {
      const T* ub = B.ub + comp * g.area + o;
      ubv[comp] = ld<Tail>(ub, n);
      Pack<T> pa_bar, pb_bar;
      tvl1::divergence_adjoint(c, ubv[comp], ld<Tail>(ub + 1, n), ld<Tail>(ub + g.s, n),
                               cols.has_right[v], has_down, pa_bar, pb_bar);
      T* pa = B.pb + 2 * comp * g.area + o;
      T* pb = pa + g.area;
      st<Tail>(pa, ld<Tail>(pa, n) + pa_bar, n);
      st<Tail>(pb, ld<Tail>(pb, n) + pb_bar, n);
      if constexpr (Params) {
        // The divergence's shifted values in s0 (see primal_row).
        const T* sa = s0 + (kP11 + 2 * comp) * g.area + o;
        const T* sb = sa + g.area;
        const Pack<T> sx0 = ld<Tail>(sa - 1, n);
        const Pack<T> sx1 = tvl1_select(cols.has_right[v], ld<Tail>(sa, n), zero);
        const Pack<T> sy0 = ld<Tail>(sb - g.s, n);
        const Pack<T> sy1 = last_row ? zero : ld<Tail>(sb, n);
        tvl1::divergence_taps(c, ubv[comp], sx0, sx1, sy0, sy1, racc);
      }
    }
    Pack<T> u1_bar = ubv[0], u2_bar = ubv[1];  // v = u + d: the gradient passes straight through
    Pack<T> gx_bar = ld<Tail>(B.bars + kGx * g.area + o, n);
    Pack<T> gy_bar = ld<Tail>(B.bars + kGy * g.area + o, n);
    Pack<T> rc_bar = ld<Tail>(B.bars + kRhoC * g.area + o, n);
    Pack<T> lt_acc(T(0));
    tvl1::data_adjoint(c, rho, gx, gy, grad, u1, u2, ubv[0], ubv[1], u1_bar, u2_bar, gx_bar,
                       gy_bar, rc_bar, lt_acc);
    st<Tail>(B.bars + kGx * g.area + o, gx_bar, n);
    st<Tail>(B.bars + kGy * g.area + o, gy_bar, n);
    st<Tail>(B.bars + kRhoC * g.area + o, rc_bar, n);
    st<Tail>(B.ub_out + o, u1_bar, n);
    st<Tail>(B.ub_out + g.area + o, u2_bar, n);
    if constexpr (Params) racc[tvl1::kLt] += lt_acc;
  });
}

// Reverse of one iteration of a plane. s0 / s1: the state before / after it. On entry B.ub and
// B.pb hold the gradients of s1's u and p; on exit B.ub_out holds those of s0's u and B.pb those of
// s0's p. Row pipeline: passes 1 and 2 of row i + 1 (pass 2 reads a_bar, b_bar of rows i and
// i + 1), then pass 3 of row i (reads u'_bar of rows i and i + 1, final after pass 2 of row i + 1;
// it writes ub_out, not ub, so row i + 1 stays intact for it).
template <bool Params, class T>
void reverse_iteration(const Coeffs<T>& c, const Grid& g, const Cols<T>& cols, const T* s0,
                       const T* s1, const AdjointBufs<T>& B, ParamAcc<T>& acc) {
  dual_adjoint_row<Params>(c, g, cols, s1, B, acc, 0);
  forward_diff_adjoint_row(c, g, cols, B, 0);
  for (int i = 0; i < g.h; ++i) {
    if (i + 1 < g.h) {
      dual_adjoint_row<Params>(c, g, cols, s1, B, acc, i + 1);
      forward_diff_adjoint_row(c, g, cols, B, i + 1);
    }
    primal_adjoint_row<Params>(c, g, cols, s0, B, acc, i);
    if constexpr (Params) acc.flush();
  }
}

// Per-thread working memory of the backward pass (sizes in padded arrays).
template <class T>
struct BackwardWork {
  std::vector<T> pre, seg, ub, ub_out, pb, ab, bars;
  BackwardWork(const Grid& g, int seg_slots)
      : pre(kPreArrays * g.area), seg(static_cast<size_t>(seg_slots) * kStateArrays * g.area),
        ub(2 * g.area), ub_out(2 * g.area), pb(4 * g.area), ab(4 * g.area), bars(3 * g.area) {}
};

template <bool Params, class T>
void backward_plane(const T* image, const T* checkpoints, const T* grad_flow, const TvL1Dims& d,
                    const Layout& L, const Grid& g, const Cols<T>& cols, const Coeffs<T>& c,
                    int64_t plane, BackwardWork<T>& w, T* g0, T* g1, double* slots) {
  const int64_t p = plane / L.c, ch = plane % L.c;
  const int64_t base = p * L.hwc + ch;
  const int64_t area = g.area;
  // Pads must be 0; everything else is (re)written below.
  std::fill(w.pre.begin(), w.pre.end(), T(0));
  std::fill(w.seg.begin(), w.seg.end(), T(0));
  std::fill(w.ub.begin(), w.ub.end(), T(0));
  std::fill(w.ub_out.begin(), w.ub_out.end(), T(0));
  std::fill(w.pb.begin(), w.pb.end(), T(0));  // the final p gets no gradient
  std::fill(w.ab.begin(), w.ab.end(), T(0));
  std::fill(w.bars.begin(), w.bars.end(), T(0));
  plane_terms(image, L, g, c, p, ch, w.pre.data());

  // Gradients of the final u: flow frame t < T-1 of pair (n, t), plus the duplicated frame T-1 for
  // the last pair of each clip.
  {
    const int64_t n = p / (d.t - 1), t = p % (d.t - 1);
    const bool last = t == d.t - 2;
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j) {
        const T* gf = grad_flow + (((n * d.t + t) * d.h + i) * d.w + j) * 2 * d.c + ch;
        const T* g2 = gf + d.h * d.w * 2 * d.c;  // frame t + 1 (the duplicate when last)
        const int64_t o = g.at(i, j);
        w.ub[o] = last ? gf[0] + g2[0] : gf[0];
        w.ub[area + o] = last ? gf[d.c] + g2[d.c] : gf[d.c];
      }
  }

  ParamAcc<T> acc;
  acc.clear();
  AdjointBufs<T> B{w.pre.data(), w.ub.data(), w.ub_out.data(), w.pb.data(), w.ab.data(),
                   w.bars.data()};
  const int64_t slot = kStateArrays * area;
  const int k_every = d.interval();
  const int num_segments = (d.iterations + k_every - 1) / k_every;
  for (int s = num_segments - 1; s >= 0; --s) {
    const int k0 = s * k_every;
    const int k1 = std::min(k0 + k_every, d.iterations);
    // Recompute the states of this segment: slot q holds the state before iteration k0 + q.
    T* seg = w.seg.data();
    if (s == 0) {
      std::fill(seg, seg + slot, T(0));
    } else {
      gather_plane(checkpoints + (s - 1) * kStateArrays * L.m, g, L, kStateArrays, base, seg);
    }
    for (int k = k0; k < k1; ++k) {
      T* src = seg + (k - k0) * slot;
      iterate(c, g, cols, w.pre.data(), src, src + slot);
    }
    for (int k = k1 - 1; k >= k0; --k) {
      const T* s0 = seg + (k - k0) * slot;
      reverse_iteration<Params>(c, g, cols, s0, s0 + slot, B, acc);
      std::swap(B.ub, B.ub_out);
    }
  }

  // I1 of the pair receives rho_c_bar and the transposed central gradients (g1), I0 receives
  // -rho_c_bar (stored as rho_c_bar in g0); the caller gathers them per frame.
  const GridRef<T> gxb{w.bars.data() + kGx * area, &g}, gyb{w.bars.data() + kGy * area, &g};
  for (int i = 0; i < g.h; ++i)
    for (int j = 0; j < g.w; ++j) {
      const int64_t q = base + (i * L.w + j) * L.c;
      const T rc = w.bars[kRhoC * area + g.at(i, j)];
      g0[q] = rc;
      g1[q] = rc + tvl1::image_grad_adjoint_at(c, gxb, gyb, i, j, g.h, g.w);
    }
  if constexpr (Params) {
    acc.add_to(slots);
    const PlaneRef<T> img1{image + L.i0_offset(p) + L.hwc + ch, L.w, L.c};
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j)
        tvl1::image_grad_taps_at(img1, gxb(i, j), gyb(i, j), i, j, g.h, g.w, slots);
  }
}

}  // namespace

template <class T>
void tvl1_flow_forward_cpu(const T* image, const TvL1Dims& d, const TvL1Params& prm, T* flow,
                           T* checkpoints) {
  const Layout L(d);
  if (L.pairs == 0) {  // T == 1: no frame pair, zero flow (documented choice)
    std::fill(flow, flow + d.n * d.t * d.h * d.w * 2 * d.c, T(0));
    return;
  }
  const Coeffs<T> c = tvl1_coeffs<T>(prm);
  const Grid g(L);
  const Cols<T> cols(g.w);
  if (L.planes() < num_threads() && g.h > 1 && !in_parallel_region()) {
    forward_banded(image, d, L, g, cols, c, flow, checkpoints);
    return;
  }
  parallel_for(0, L.planes(), 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> pre(kPreArrays * g.area), state(kStateArrays * g.area);
    for (int64_t plane = lo; plane < hi; ++plane) {
      std::fill(pre.begin(), pre.end(), T(0));
      std::fill(state.begin(), state.end(), T(0));
      plane_terms(image, L, g, c, plane / L.c, plane % L.c, pre.data());
      for (int k = 0; k < d.iterations; ++k) {
        iterate(c, g, cols, pre.data(), state.data(), state.data());
        store_checkpoint(state.data(), d, L, g, plane, k + 1, checkpoints);
      }
      write_flow(state.data(), d, L, g, plane, flow);
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
  ASN_CHECK(checkpoints != nullptr || d.num_checkpoints() == 0,
            "tvl1_flow backward: checkpoints are missing");
  const Coeffs<T> c = tvl1_coeffs<T>(prm);
  const Grid g(L);
  const Cols<T> cols(g.w);
  const bool want_params = grad_params != nullptr;
  const int seg_slots = std::min(d.interval(), d.iterations) + 1;
  // Image-term gradients per pair: g0 = rho_c_bar (I0 gets its negative), g1 = what I1 gets.
  std::vector<T> g01(2 * static_cast<size_t>(L.m));
  T* g0 = g01.data();
  T* g1 = g0 + L.m;
  std::vector<double> plane_slots(want_params ? static_cast<size_t>(L.planes()) * kSlots : 0, 0.0);
  parallel_for(0, L.planes(), 1, [&](int64_t lo, int64_t hi) {
    BackwardWork<T> w(g, seg_slots);
    for (int64_t plane = lo; plane < hi; ++plane) {
      if (want_params) {
        backward_plane<true>(image, checkpoints, grad_flow, d, L, g, cols, c, plane, w, g0, g1,
                             plane_slots.data() + plane * kSlots);
      } else {
        backward_plane<false>(image, checkpoints, grad_flow, d, L, g, cols, c, plane, w, g0, g1,
                              nullptr);
      }
    }
  });

  // Image gradients: frame t of a clip is I0 of pair t and I1 of pair t - 1 (gathered, no races).
  if (grad_image != nullptr) {
    parallel_for(0, d.n * d.t * d.h, L.grain(), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / (d.t * d.h), t = (r / d.h) % d.t, i = r % d.h;
        for (int64_t q = 0; q < d.w * d.c; ++q) {
          const int64_t pix = i * d.w * d.c + q;
          T v = T(0);
          if (t < d.t - 1) v -= g0[(n * (d.t - 1) + t) * L.hwc + pix];
          if (t >= 1) v += g1[(n * (d.t - 1) + t - 1) * L.hwc + pix];
          grad_image[(n * d.t + t) * L.hwc + pix] = v;
        }
      }
    });
  }
  if (want_params) {
    double slots[kSlots] = {0};
    for (int64_t plane = 0; plane < L.planes(); ++plane)
      for (int k = 0; k < kSlots; ++k)
        slots[k] += plane_slots[static_cast<size_t>(plane * kSlots + k)];
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
