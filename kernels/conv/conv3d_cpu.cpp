// CPU 3-D convolution: im2col over tiles of output positions + a single-threaded tile GEMM per
// thread (conv_gemm.h). See conv3d.h for the maths, the layouts, the threading and the scratch
// memory.
//
// Tensors are channels-last, so one kernel tap of one output position reads Cin contiguous input
// values, and for an undilated W axis all kW taps of a (kt, kh) pair read one contiguous run of
// kW*Cin values. im2col copies those runs (zeros where the tap falls in the padding); col2im adds
// them back.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/parallel.h"
#include "kernels/conv/conv3d.h"
#include "kernels/conv/conv_gemm.h"

namespace asn::kernels {

namespace {

// Target size of one thread's column tile. Measured on a 2-core Zen 4 (1 MiB L2, shared L3) for
// the conv3d benchmark shapes: 1 to 4 MiB are best and alike, 256 KiB is up to 15% slower.
constexpr int64_t kColTileBytes = 2 * 1024 * 1024;
// Fewest output positions worth a thread of their own.
constexpr int64_t kMinPositionsPerThread = 64;

struct Geom {
  int64_t N, T, H, W, Cin;
  int64_t Cout, kT, kH, kW;
  int64_t To, Ho, Wo;
  int64_t s[3], d[3], p[3];  // stride, dilation, pad-before of (T, H, W)
  int64_t K;                 // kT * kH * kW * Cin: one column row
  int64_t P;                 // N * To * Ho * Wo: output positions
};

Geom make_geom(const Shape& xs, const Shape& ws, const Conv3dParams& prm) {
  const Shape ys = prm.output_shape(xs, ws);
  Geom g{};
  g.N = xs[0], g.T = xs[1], g.H = xs[2], g.W = xs[3], g.Cin = xs[4];
  g.Cout = ws[0], g.kT = ws[1], g.kH = ws[2], g.kW = ws[3];
  g.To = ys[1], g.Ho = ys[2], g.Wo = ys[3];
  for (int a = 0; a < 3; ++a) {
    g.s[a] = prm.stride[a];
    g.d[a] = prm.dilation[a];
    g.p[a] = prm.pad[a].before;
  }
  g.K = g.kT * g.kH * g.kW * g.Cin;
  g.P = g.N * g.To * g.Ho * g.Wo;
  return g;
}

// 1x1x1, stride 1, no padding: x viewed as (P, Cin) is the column matrix.
bool is_pointwise(const Geom& g) {
  return g.kT == 1 && g.kH == 1 && g.kW == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 &&
         g.p[0] == 0 && g.p[1] == 0 && g.p[2] == 0 && g.To == g.T && g.Ho == g.H && g.Wo == g.W;
}

// Column-tile rows for one thread: about kColTileBytes, at least 1.
template <class T>
int64_t tile_rows(const Geom& g) {
  return std::max<int64_t>(1, kColTileBytes / static_cast<int64_t>(g.K * sizeof(T)));
}

// Splits [0, P) into one contiguous chunk per thread (fewer for small problems). Chunk j is
// [bounds[j], bounds[j + 1]).
std::vector<int64_t> chunk_bounds(int64_t P) {
  const int64_t by_size = std::max<int64_t>(1, P / kMinPositionsPerThread);
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(num_threads(), by_size));
  std::vector<int64_t> b(static_cast<size_t>(chunks + 1));
  for (int64_t j = 0; j <= chunks; ++j) b[static_cast<size_t>(j)] = P * j / chunks;
  return b;
}

// Runs body(j) for every chunk j, one chunk per thread.
template <class F>
void for_each_chunk(int64_t chunks, const F& body) {
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t j = c0; j < c1; ++j) body(j);
  });
}

// A per-thread column buffer, kept between calls (its size is bounded by the tile size or by one
// column row, see conv3d.h).
template <class T>
T* column_scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Valid taps [lo, hi) of a kernel axis of size k for an output coordinate whose window starts at
// input coordinate `start` (may be negative) with dilation d on an input of length n.
inline void tap_range(int64_t start, int64_t k, int64_t d, int64_t n, int64_t& lo, int64_t& hi) {
  lo = start >= 0 ? 0 : std::min(k, (-start + d - 1) / d);
  const int64_t last = n - 1 - start;  // largest offset k*d that stays inside
  hi = last < 0 ? 0 : std::min(k, last / d + 1);
  if (hi < lo) hi = lo;
}

// Decoded output position, advanced one position at a time in (n, to, ho, wo) order.
struct OutPos {
  int64_t n, to, ho, wo;
  OutPos(const Geom& g, int64_t p) {
    wo = p % g.Wo;
    p /= g.Wo;
    ho = p % g.Ho;
    p /= g.Ho;
    to = p % g.To;
    n = p / g.To;
  }
  void next(const Geom& g) {
    if (++wo < g.Wo) return;
    wo = 0;
    if (++ho < g.Ho) return;
    ho = 0;
    if (++to < g.To) return;
    to = 0;
    ++n;
  }
};

// Visits the kernel taps of one output position: for every (kt, kh) tap pair it calls
//   run(col_offset, x_offset, len)  for the in-bounds W taps with an undilated W axis, as one run
//                                   (or per W tap otherwise), and
//   gap(col_offset, len)            for the taps in the padding,
// where col_offset indexes the position's column row and x_offset the input tensor.
template <class Run, class Gap>
inline void visit_taps(const Geom& g, const OutPos& o, const Run& run, const Gap& gap) {
  const int64_t t0 = o.to * g.s[0] - g.p[0];
  const int64_t h0 = o.ho * g.s[1] - g.p[1];
  const int64_t w0 = o.wo * g.s[2] - g.p[2];
  int64_t wlo, whi;
  tap_range(w0, g.kW, g.d[2], g.W, wlo, whi);
  const int64_t C = g.Cin;
  const int64_t plane = g.kH * g.kW * C;  // column elements of one kt
  const int64_t line = g.kW * C;          // column elements of one (kt, kh)
  for (int64_t kt = 0; kt < g.kT; ++kt) {
    const int64_t t = t0 + kt * g.d[0];
    if (t < 0 || t >= g.T) {
      gap(kt * plane, plane);
      continue;
    }
    for (int64_t kh = 0; kh < g.kH; ++kh) {
      const int64_t h = h0 + kh * g.d[1];
      const int64_t c = kt * plane + kh * line;
      if (h < 0 || h >= g.H) {
        gap(c, line);
        continue;
      }
      const int64_t xrow = ((o.n * g.T + t) * g.H + h) * g.W;
      if (wlo > 0) gap(c, wlo * C);
      if (g.d[2] == 1) {
        if (whi > wlo) run(c + wlo * C, (xrow + w0 + wlo) * C, (whi - wlo) * C);
      } else {
        for (int64_t kw = wlo; kw < whi; ++kw) run(c + kw * C, (xrow + w0 + kw * g.d[2]) * C, C);
      }
      if (whi < g.kW) gap(c + whi * C, (g.kW - whi) * C);
    }
  }
}

// col (m, K) <- patches of output positions [p, p + m).
template <class T>
void im2col(const Geom& g, const T* x, int64_t p, int64_t m, T* col) {
  OutPos o(g, p);
  for (int64_t i = 0; i < m; ++i, o.next(g)) {
    T* row = col + i * g.K;
    visit_taps(
        g, o,
        [&](int64_t c, int64_t xo, int64_t len) {
          std::memcpy(row + c, x + xo, static_cast<size_t>(len) * sizeof(T));
        },
        [&](int64_t c, int64_t len) {
          std::memset(row + c, 0, static_cast<size_t>(len) * sizeof(T));
        });
  }
}

// dxbuf += col2im(col) for output positions [p, p + m); dxbuf holds the input elements starting
// at flat element index `base` of x.
template <class T>
void col2im_add(const Geom& g, const T* col, int64_t p, int64_t m, T* dxbuf, int64_t base) {
  OutPos o(g, p);
  for (int64_t i = 0; i < m; ++i, o.next(g)) {
    const T* row = col + i * g.K;
    visit_taps(
        g, o,
        [&](int64_t c, int64_t xo, int64_t len) {
          T* dst = dxbuf + (xo - base);
          const T* src = row + c;
          for (int64_t e = 0; e < len; ++e) dst[e] += src[e];
        },
        [](int64_t, int64_t) {});
  }
}

// Input rows (n, t, h), as the flat index (n*T + t)*H + h, touched by output positions [p0, p1):
// [lo, hi); lo == hi when none is touched.
void touched_rows(const Geom& g, int64_t p0, int64_t p1, int64_t& lo, int64_t& hi) {
  lo = g.N * g.T * g.H;
  hi = 0;
  if (p1 <= p0) {
    lo = hi = 0;
    return;
  }
  const int64_t r0 = p0 / g.Wo, r1 = (p1 - 1) / g.Wo + 1;  // output rows (n, to, ho)
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ho = r % g.Ho, to = (r / g.Ho) % g.To, n = r / (g.Ho * g.To);
    int64_t tlo, thi, hlo, hhi;
    tap_range(to * g.s[0] - g.p[0], g.kT, g.d[0], g.T, tlo, thi);
    tap_range(ho * g.s[1] - g.p[1], g.kH, g.d[1], g.H, hlo, hhi);
    if (thi <= tlo || hhi <= hlo) continue;
    const int64_t tmin = to * g.s[0] - g.p[0] + tlo * g.d[0];
    const int64_t tmax = to * g.s[0] - g.p[0] + (thi - 1) * g.d[0];
    const int64_t hmin = ho * g.s[1] - g.p[1] + hlo * g.d[1];
    const int64_t hmax = ho * g.s[1] - g.p[1] + (hhi - 1) * g.d[1];
    lo = std::min(lo, (n * g.T + tmin) * g.H + hmin);
    hi = std::max(hi, (n * g.T + tmax) * g.H + hmax + 1);
  }
  if (hi <= lo) lo = hi = 0;
}

}  // namespace

template <class T>
void conv3d_forward_cpu(const T* x, const Shape& x_shape, const T* w, const Shape& w_shape,
                        const Conv3dParams& prm, T* y) {
  const Geom g = make_geom(x_shape, w_shape, prm);
  if (g.P == 0 || g.Cout == 0) return;
  if (g.K == 0) {
    std::fill(y, y + g.P * g.Cout, T(0));
    return;
  }
  const bool pointwise = is_pointwise(g);
  // w^T (K, Cout): the GEMM's B operand, rows contiguous.
  std::vector<T> wt(static_cast<size_t>(g.K * g.Cout));
  for (int64_t co = 0; co < g.Cout; ++co) {
    for (int64_t k = 0; k < g.K; ++k) wt[static_cast<size_t>(k * g.Cout + co)] = w[co * g.K + k];
  }
  const std::vector<int64_t> b = chunk_bounds(g.P);
  const int64_t M = tile_rows<T>(g);
  for_each_chunk(static_cast<int64_t>(b.size()) - 1, [&](int64_t j) {
    const int64_t c0 = b[static_cast<size_t>(j)], c1 = b[static_cast<size_t>(j) + 1];
    T* col =
        pointwise ? nullptr : column_scratch<T>(static_cast<size_t>(std::min(M, c1 - c0) * g.K));
    for (int64_t p = c0; p < c1; p += M) {
      const int64_t m = std::min(M, c1 - p);
      const T* a = pointwise ? x + p * g.K : col;  // pointwise: x rows are the column rows
      if (!pointwise) im2col(g, x, p, m, col);
      // y (m, Cout) = col (m, K) * w^T (K, Cout)
      conv_gemm<T>(false, m, g.Cout, g.K, a, g.K, wt.data(), g.Cout, y + p * g.Cout, g.Cout, false);
    }
  });
}

template <class T>
void conv3d_backward_data_cpu(const T* dy, const Shape& x_shape, const T* w, const Shape& w_shape,
                              const Conv3dParams& prm, T* dx) {
  const Geom g = make_geom(x_shape, w_shape, prm);
  const int64_t xnumel = x_shape.numel();
  if (xnumel == 0) return;
  if (g.P == 0 || g.Cout == 0 || g.K == 0) {
    std::fill(dx, dx + xnumel, T(0));
    return;
  }
  const std::vector<int64_t> b = chunk_bounds(g.P);
  const int64_t chunks = static_cast<int64_t>(b.size()) - 1;
  const int64_t M = tile_rows<T>(g);
  if (is_pointwise(g)) {
    // dx rows are the column rows: dx (m, Cin) = dy (m, Cout) * w (Cout, Cin), no overlap.
    for_each_chunk(chunks, [&](int64_t j) {
      const int64_t c0 = b[static_cast<size_t>(j)], c1 = b[static_cast<size_t>(j) + 1];
      for (int64_t p = c0; p < c1; p += M) {
        const int64_t m = std::min(M, c1 - p);
        conv_gemm<T>(false, m, g.K, g.Cout, dy + p * g.Cout, g.Cout, w, g.K, dx + p * g.K, g.K,
                     false);
      }
    });
    return;
  }
  const int64_t row_len = g.W * g.Cin;  // elements of one input row (n, t, h)
  const int64_t rows = g.N * g.T * g.H;

  // Chunk j scatters into the input rows [lo[j], hi[j]); chunk 0 straight into dx, the others into
  // private buffers that are summed into dx afterwards in chunk order.
  std::vector<int64_t> lo(static_cast<size_t>(chunks)), hi(static_cast<size_t>(chunks));
  std::vector<std::unique_ptr<T[]>> priv(static_cast<size_t>(chunks));
  for (int64_t j = 0; j < chunks; ++j) {
    const size_t u = static_cast<size_t>(j);
    touched_rows(g, b[u], b[u + 1], lo[u], hi[u]);
    if (j > 0 && hi[u] > lo[u])
      priv[u].reset(new T[static_cast<size_t>((hi[u] - lo[u]) * row_len)]);
  }
  for_each_chunk(chunks, [&](int64_t j) {
    const size_t u = static_cast<size_t>(j);
    const int64_t c0 = b[u], c1 = b[u + 1];
    const int64_t base = lo[u] * row_len;
    T* buf = j == 0 ? dx + base : priv[u].get();
    if (hi[u] <= lo[u]) return;
    std::fill(buf, buf + (hi[u] - lo[u]) * row_len, T(0));
    T* col = column_scratch<T>(static_cast<size_t>(std::min(M, c1 - c0) * g.K));
    for (int64_t p = c0; p < c1; p += M) {
      const int64_t m = std::min(M, c1 - p);
      // dcol (m, K) = dy (m, Cout) * w (Cout, K)
      conv_gemm<T>(false, m, g.K, g.Cout, dy + p * g.Cout, g.Cout, w, g.K, col, g.K, false);
      col2im_add(g, col, p, m, buf, base);
    }
  });
  // dx rows outside chunk 0's range start at zero; then every other chunk adds its rows, in order.
  parallel_for(0, rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T* d = dx + r * row_len;
      if (r < lo[0] || r >= hi[0]) std::fill(d, d + row_len, T(0));
      for (int64_t j = 1; j < chunks; ++j) {
        const size_t u = static_cast<size_t>(j);
        if (r < lo[u] || r >= hi[u]) continue;
        const T* s = priv[u].get() + (r - lo[u]) * row_len;
        for (int64_t e = 0; e < row_len; ++e) d[e] += s[e];
      }
    }
  });
}

template <class T>
void conv3d_backward_weight_cpu(const T* x, const Shape& x_shape, const T* dy, const Shape& w_shape,
                                const Conv3dParams& prm, T* dw) {
  const Geom g = make_geom(x_shape, w_shape, prm);
  const int64_t wnumel = g.Cout * g.K;
  if (wnumel == 0) return;
  if (g.P == 0) {
    std::fill(dw, dw + wnumel, T(0));
    return;
  }
  const bool pointwise = is_pointwise(g);
  const std::vector<int64_t> b = chunk_bounds(g.P);
  const int64_t chunks = static_cast<int64_t>(b.size()) - 1;
  const int64_t M = tile_rows<T>(g);
  // Chunk 0 accumulates straight into dw, the others into partials summed afterwards in order.
  std::vector<std::unique_ptr<T[]>> part(static_cast<size_t>(chunks));
  for (int64_t j = 1; j < chunks; ++j)
    part[static_cast<size_t>(j)].reset(new T[static_cast<size_t>(wnumel)]);
  for_each_chunk(chunks, [&](int64_t j) {
    const size_t u = static_cast<size_t>(j);
    const int64_t c0 = b[u], c1 = b[u + 1];
    T* acc = j == 0 ? dw : part[u].get();
    T* col =
        pointwise ? nullptr : column_scratch<T>(static_cast<size_t>(std::min(M, c1 - c0) * g.K));
    for (int64_t p = c0; p < c1; p += M) {
      const int64_t m = std::min(M, c1 - p);
      const T* src = pointwise ? x + p * g.K : col;
      if (!pointwise) im2col(g, x, p, m, col);
      // acc (Cout, K) (+)= dy^T (Cout, m) * col (m, K); dy (m, Cout) is A stored transposed.
      conv_gemm<T>(true, g.Cout, g.K, m, dy + p * g.Cout, g.Cout, src, g.K, acc, g.K, p != c0);
    }
  });
  if (chunks > 1) {
    parallel_for(0, wnumel, 4096, [&](int64_t e0, int64_t e1) {
      for (int64_t j = 1; j < chunks; ++j) {
        const T* s = part[static_cast<size_t>(j)].get();
        for (int64_t e = e0; e < e1; ++e) dw[e] += s[e];
      }
    });
  }
}

#define ASN_CONV3D_INSTANTIATE(T)                                                             \
  template void conv3d_forward_cpu<T>(const T*, const Shape&, const T*, const Shape&,         \
                                      const Conv3dParams&, T*);                               \
  template void conv3d_backward_data_cpu<T>(const T*, const Shape&, const T*, const Shape&,   \
                                            const Conv3dParams&, T*);                         \
  template void conv3d_backward_weight_cpu<T>(const T*, const Shape&, const T*, const Shape&, \
                                              const Conv3dParams&, T*);

ASN_CONV3D_INSTANTIATE(float)
ASN_CONV3D_INSTANTIATE(double)
#undef ASN_CONV3D_INSTANTIATE

}  // namespace asn::kernels
