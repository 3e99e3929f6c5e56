// CUDA implementation of kernels/repflow/tvl1_flow.h. Every pixel is computed by the functions of
// tvl1_math.h, the same ones the CPU runs.
//
// Forward, band kernel (the normal path): one launch runs every iteration. A thread-block cluster
// of up to 8 blocks owns one (pair, channel) plane, each block a band of rows whose six state
// arrays stay in shared memory for the whole run (162 KB per block for a 224 x 224 plane in f32,
// 8 bands of 28 rows); the bands exchange one boundary row per pass through distributed shared
// memory between cluster barriers. The state goes to HBM only where it is stored (checkpoints,
// segment states) and the flow is written directly. See band_kernel for the layout and the
// barrier order. Launched when a band fits (band_plan); gx, gy, rho_c come from a precompute
// kernel and are read through L1.
//
// Forward, tiled fallback (planes too wide for a band, e.g. 224 x 224 in f64): one fused kernel
// runs up to kMaxFused iterations per launch. A block owns a 32 x 16 tile of one plane and keeps
// the whole state and the image terms of the tile plus a halo of J pixels (J = iterations in this
// launch) in shared memory. Each iteration computes every position of the extended tile;
// positions next to the tile's edge read neighbours the block does not hold (as zeros), and that
// error moves inward by at most one pixel per iteration, so after J iterations the inner 32 x 16
// pixels are exact and only they are written (the halo is recomputed redundantly by the
// neighbouring blocks). Launches ping-pong between two state buffers and stop at checkpoint
// boundaries to copy the state out.
//
// Backward: one fused kernel per iteration (tile 32 x 8) doing the three passes of the CPU's
// reverse iteration in shared memory with a small halo: the dual-update adjoint on the tile + 1,
// the transposed forward differences on the tile + 1 (right / down), then the divergence transpose
// and the data-term adjoint on the tile. The states inside a checkpoint segment are recomputed by
// one band-kernel launch per segment (tiled fallback: one launch per iteration).
//
// Parameter gradients: per-block partial sums in double (fixed reduction tree) added into a
// per-block slot across launches; the host sums the slots in block order. No atomics anywhere.
// tests/cuda/test_rep_flow_cuda.cpp compares everything with the CPU. The tiled kernels, the
// backward and the generic band kernel passed it on an H200 (2026-11-28); the f32 224 x 224
// specialisation of the band kernel was added afterwards without a GPU and has not run yet.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include <cooperative_groups.h>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/runtime_flags.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/repflow/tvl1_flow.h"

namespace asn::kernels::cuda {

namespace {

using tvl1::Coeffs;
constexpr int kSlots = tvl1::kNumSlots;

constexpr int kFwdTileW = 32, kFwdTileH = 16, kFwdThreads = 256, kMaxFused = 4;
constexpr int kBwdTileW = 32, kBwdTileH = 8, kBwdThreads = 256;
constexpr int kMaxGridZ = 65535;

// One channel of a (P, H, W, C) plane in global memory.
template <class T>
struct GlobalPlane {
  const T* base;
  int w, c;
  ASN_HOST_DEVICE T operator()(int i, int j) const {
    return base[(static_cast<int64_t>(i) * w + j) * c];
  }
};

// A shared-memory tile covering rows [r0, r0 + th) and columns [c0, c0 + tw) of a plane; reads
// outside it return 0 (callers only rely on positions the tile holds).
template <class T>
struct TilePlane {
  const T* s;
  int r0, c0, th, tw;
  ASN_HOST_DEVICE T operator()(int i, int j) const {
    const int li = i - r0, lj = j - c0;
    return (li < 0 || li >= th || lj < 0 || lj >= tw) ? T(0) : s[li * tw + lj];
  }
};

struct Geometry {
  int64_t pairs, m;
  int t, h, w, c;
};

// gx, gy (central gradients of I1) and rho_c = I1 - I0 for every pixel of every pair and channel.
template <class T>
__global__ void precompute_kernel(const T* __restrict__ image, Geometry g, Coeffs<T> co, T* gx,
                                  T* gy, T* rho_c) {
  ASN_GRID_STRIDE_LOOP(idx, g.m) {
    const int ch = static_cast<int>(idx % g.c);
    const int64_t pix = idx / g.c;
    const int j = static_cast<int>(pix % g.w);
    const int i = static_cast<int>((pix / g.w) % g.h);
    const int64_t p = pix / (static_cast<int64_t>(g.w) * g.h);
    const int64_t n = p / (g.t - 1), tt = p % (g.t - 1);
    const int64_t hwc = static_cast<int64_t>(g.h) * g.w * g.c;
    const T* i0 = image + (n * g.t + tt) * hwc + ch;
    const T* i1 = i0 + hwc;
    T a, b;
    tvl1::image_grad_at(co, GlobalPlane<T>{i1, g.w, g.c}, i, j, g.h, g.w, a, b);
    gx[idx] = a;
    gy[idx] = b;
    const int64_t off = (static_cast<int64_t>(i) * g.w + j) * g.c;
    rho_c[idx] = i1[off] - i0[off];
  }
}

size_t forward_smem_bytes(int iters, size_t elem) {
  const size_t ew = kFwdTileW + 2 * iters, eh = kFwdTileH + 2 * iters;
  return 9 * ew * eh * elem;
}

// `iters` TV-L1 iterations on tiles of one plane per block (blockIdx.z + plane0 = p C + ch).
// in / out: (u1, u2, p11, p12, p21, p22), each m elements; pre: (gx, gy, rho_c).
template <class T>
__global__ void __launch_bounds__(kFwdThreads)
    forward_fused_kernel(const T* __restrict__ pre, const T* __restrict__ in, T* __restrict__ out,
                         Coeffs<T> co, Geometry g, int iters, int64_t plane0) {
  extern __shared__ unsigned char smem_raw[];
  T* sm = reinterpret_cast<T*>(smem_raw);
  const int halo = iters;
  const int ew = kFwdTileW + 2 * halo, eh = kFwdTileH + 2 * halo, esz = ew * eh;
  T* su1 = sm;
  T* su2 = sm + esz;
  T* sp11 = sm + 2 * esz;
  T* sp12 = sm + 3 * esz;
  T* sp21 = sm + 4 * esz;
  T* sp22 = sm + 5 * esz;
  T* sgx = sm + 6 * esz;
  T* sgy = sm + 7 * esz;
  T* src = sm + 8 * esz;
  const int64_t plane = plane0 + blockIdx.z;
  const int64_t base = (plane / g.c) * g.h * g.w * g.c + plane % g.c;
  const int r0 = static_cast<int>(blockIdx.y) * kFwdTileH - halo;
  const int c0 = static_cast<int>(blockIdx.x) * kFwdTileW - halo;

  for (int e = threadIdx.x; e < esz; e += blockDim.x) {
    const int gi = r0 + e / ew, gj = c0 + e % ew;
    const bool inside = gi >= 0 && gi < g.h && gj >= 0 && gj < g.w;
    const int64_t q = base + (static_cast<int64_t>(gi) * g.w + gj) * g.c;
    for (int k = 0; k < 6; ++k) sm[k * esz + e] = inside ? in[k * g.m + q] : T(0);
    sgx[e] = inside ? pre[q] : T(0);
    sgy[e] = inside ? pre[g.m + q] : T(0);
    src[e] = inside ? pre[2 * g.m + q] : T(0);
  }
  __syncthreads();

  const TilePlane<T> u1v{su1, r0, c0, eh, ew}, u2v{su2, r0, c0, eh, ew};
  const TilePlane<T> p11v{sp11, r0, c0, eh, ew}, p12v{sp12, r0, c0, eh, ew};
  const TilePlane<T> p21v{sp21, r0, c0, eh, ew}, p22v{sp22, r0, c0, eh, ew};
  for (int it = 0; it < iters; ++it) {
    // Pass A: u = u + d + θ div(p).
    for (int e = threadIdx.x; e < esz; e += blockDim.x) {
      const int gi = r0 + e / ew, gj = c0 + e % ew;
      if (gi < 0 || gi >= g.h || gj < 0 || gj >= g.w) continue;
      const T div1 = tvl1::divergence_at(co, p11v, p12v, gi, gj, g.h, g.w);
      const T div2 = tvl1::divergence_at(co, p21v, p22v, gi, gj, g.h, g.w);
      tvl1::primal_update(co, src[e], sgx[e], sgy[e], div1, div2, su1[e], su2[e]);
    }
    __syncthreads();
    // Pass B: p = (p + taut ∇u) / n.
    for (int e = threadIdx.x; e < esz; e += blockDim.x) {
      const int gi = r0 + e / ew, gj = c0 + e % ew;
      if (gi < 0 || gi >= g.h || gj < 0 || gj >= g.w) continue;
      T a, b;
      tvl1::forward_diff_at(co, u1v, gi, gj, g.h, g.w, a, b);
      tvl1::dual_update(co, a, b, sp11[e], sp12[e]);
      tvl1::forward_diff_at(co, u2v, gi, gj, g.h, g.w, a, b);
      tvl1::dual_update(co, a, b, sp21[e], sp22[e]);
    }
    __syncthreads();
  }

  for (int e = threadIdx.x; e < kFwdTileW * kFwdTileH; e += blockDim.x) {
    const int li = halo + e / kFwdTileW, lj = halo + e % kFwdTileW;
    const int gi = r0 + li, gj = c0 + lj;
    if (gi >= g.h || gj >= g.w) continue;
    const int64_t q = base + (static_cast<int64_t>(gi) * g.w + gj) * g.c;
    for (int k = 0; k < 6; ++k) out[k * g.m + q] = sm[k * esz + li * ew + lj];
  }
}

// --- band kernel: every iteration of a plane in shared memory ------------------------------------
//
// A cluster of `cs` blocks (cs in {1, 2, 4, 8}, Hopper thread-block clusters for cs > 1) owns one
// (pair, channel) plane; block b (its rank, = blockIdx.x since gridDim.x == cs) owns the band of
// image rows [r0, r0 + rows), r0 = b bh, rows = min(bh, H - r0) (0 for a block past the image).
// The band's six state arrays live in shared memory for the whole launch; gx, gy, rho_c are read
// from the precomputed global arrays (L1 / L2). One launch runs all iterations of a forward pass
// (or of a checkpoint segment), so the state never travels to HBM except where it is stored.
//
// Shared layout (per array): local rows -1 .. bh, row stride S = W + 1, pixel (li, j) at
// (li + 1) S + j + 1, A = (bh + 2) S + 1 elements. Column -1 of row li and column W of row li - 1
// are the same cell; it is 0 and never written (the loops write j in [0, W) of rows [0, rows), the
// halo copies j in [0, W) of rows -1 and bh). The border rules then become plain loads:
//   pass A (u update, tvl1::divergence): sx0 = p11[li, j-1] (pad 0 at j = 0), sx1 = p11[li, j]
//     masked at j = W-1, sy0 = p12[li-1, j], sy1 = p12[li, j] masked at image row H-1.
//     Row -1 holds the last row of the band above (copied after every pass B), or 0 at the top of
//     the image; pass A reads only p12 / p22 there.
//   pass B (p update, tvl1::forward_diff): u[li, j+1] (the pad, 0, at j = W-1: the rule
//     u[i, W] = 0) and u[li+1, j]. Local row `rows` holds the first row of the band below (copied
//     after every pass A), or 0 at the bottom of the image (the band is then the last one; when
//     rows < bh that row is an interior row of the array, zero-filled and never written).
// Order of one iteration: pass A on the band, cluster barrier (every band's u is new), copy the
// band below's first u row, block barrier, pass B, cluster barrier (every band's p is new), copy
// the band above's last p row, block barrier. A band's u changes only in pass A and its p only in
// pass B, each between two cluster barriers that the copies of the neighbours precede or follow,
// so every copy sees exactly the values of the same iteration, as the two full-plane passes of the
// CPU would. The barrier at the start makes sure every block of the cluster runs before shared
// memory is read across blocks, the one at the end that no block exits while it may still be read.
struct BandPlan {
  bool ok = false;
  int cs = 1, bh = 0, by = 1;
  size_t bytes = 0;
};

template <class T>
struct BandArgs {
  const T* pre;     // gx, gy, rho_c: 3 arrays of M
  const T* in;      // state before the first iteration (6 arrays of M), or null for zeros
  T* store;         // states stored after iterations store_every, 2 store_every, ... (6 M each)
  int store_every;  // >= 1
  int store_count;  // number of states stored (0: none)
  T* flow;          // (N, T, H, W, 2C) output of the final u, or null
  int iters;        // iterations in this launch
  int64_t plane0;   // plane of blockIdx.y == 0
  int cs, bh;       // cluster size, rows per band
};

inline size_t band_smem_bytes(int bh, int w, size_t elem) {
  const size_t area = static_cast<size_t>(bh + 2) * (static_cast<size_t>(w) + 1) + 1;
  return 6 * area * elem;
}

// Barrier over every thread of the cluster (of the block when cs == 1), with cluster-scope memory
// ordering of shared-memory writes.
__device__ __forceinline__ void band_sync(int cs) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
  if (cs > 1) {
    cooperative_groups::this_cluster().sync();
    return;
  }
#endif
  __syncthreads();
}

// Address of `local` in the shared memory of cluster block `rank` (cs > 1 only, sm_90+).
template <class T>
__device__ __forceinline__ const T* band_remote(T* local, int rank) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
  return cooperative_groups::this_cluster().map_shared_rank(local, rank);
#else
  __trap();  // band_plan never picks cs > 1 below sm_90
  return local;
#endif
}

// kW, kBH > 0: a specialisation for one-channel planes kW wide in bands of kBH rows (the 224 x 224
// planes of the published networks' flow stems: 8 bands of 28 rows). Then W, S, A and every shared-memory offset are
// compile-time constants and the column loops of the two passes unroll fully: each pixel's
// accesses become one base register plus immediate offsets instead of per-pixel index
// arithmetic (the generic pass A spent ~40 of its ~100 instructions per pixel on addresses, SASS
// for sm_90). Same arithmetic, same order: results are bitwise those of the generic kernel.
template <class T, int kW, int kBH>
__global__ void __launch_bounds__(1024) band_kernel(BandArgs<T> a, Coeffs<T> co, Geometry g) {
  extern __shared__ __align__(16) unsigned char band_smem[];
  T* sm = reinterpret_cast<T*>(band_smem);
  const int W = kW > 0 ? kW : g.w, H = g.h, S = W + 1;
  const int bh = kBH > 0 ? kBH : a.bh;
  const int C = kW > 0 ? 1 : g.c;  // the specialisation is for one-channel planes (image flow)
  const int A = (bh + 2) * S + 1;
  // Columns per thread in the passes: a compile-time count when kW is, so they unroll.
  const int cols = kW > 0 ? (kW + 31) / 32 : (W + 31) / 32;
  constexpr bool kColsExact = kW > 0 && kW % 32 == 0;  // then no column is past W
  T* su1 = sm;
  T* su2 = sm + A;
  T* sp11 = sm + 2 * A;
  T* sp12 = sm + 3 * A;
  T* sp21 = sm + 4 * A;
  T* sp22 = sm + 5 * A;
  const int rank = static_cast<int>(blockIdx.x);
  const int r0 = rank * bh;
  const int rows = max(0, min(bh, H - r0));
  const bool from_above = rank > 0 && rows > 0;  // then the band above is full (bh rows)
  const bool from_below = r0 + bh < H;         // the band below has rows (and this one bh)
  const int64_t plane = a.plane0 + blockIdx.y;
  const int64_t hwc = static_cast<int64_t>(H) * W * C;
  const int64_t base = (plane / C) * hwc + plane % C;
  const int tid = threadIdx.y * 32 + threadIdx.x, nthreads = 32 * blockDim.y;
  auto off = [&](int li, int j) { return (li + 1) * S + j + 1; };
  auto gidx = [&](int gi, int j) { return base + (static_cast<int64_t>(gi) * W + j) * C; };

  // Zero everything (the pads), then the initial state of local rows -1 .. rows (inside the image).
  for (int e = tid; e < 6 * A; e += nthreads) sm[e] = T(0);
  __syncthreads();
  if (a.in != nullptr && rows > 0) {
    for (int li = static_cast<int>(threadIdx.y) - 1; li <= rows; li += blockDim.y) {
      const int gi = r0 + li;
      if (gi < 0 || gi >= H) continue;
      for (int j = threadIdx.x; j < W; j += 32) {
        for (int k = 0; k < 6; ++k) sm[k * A + off(li, j)] = a.in[k * g.m + gidx(gi, j)];
      }
    }
  }
  band_sync(a.cs);

  for (int it = 0; it < a.iters; ++it) {
    // Pass A: u = u + d + θ div(p).
    for (int li = threadIdx.y; li < rows; li += blockDim.y) {
      const int gi = r0 + li;
      const bool has_down = gi + 1 < H;
      // gx, gy, rho_c of this thread's first pixel in the row, then a fixed step per pixel (the
      // 64-bit index arithmetic once per row, not per pixel).
      const T* gxp = a.pre + gidx(gi, threadIdx.x);
      const T* gyp = gxp + g.m;
      const T* rcp = gyp + g.m;
      const int64_t step = 32 * static_cast<int64_t>(C);
#pragma unroll
      for (int k = 0; k < cols; ++k, gxp += step, gyp += step, rcp += step) {
        const int j = threadIdx.x + 32 * k;
        if (!kColsExact && j >= W) break;
        const int o = off(li, j);
        const bool has_right = j + 1 < W;
        const T div1 = tvl1::divergence(co, sp11[o - 1], has_right ? sp11[o] : T(0), sp12[o - S],
                                        has_down ? sp12[o] : T(0));
        const T div2 = tvl1::divergence(co, sp21[o - 1], has_right ? sp21[o] : T(0), sp22[o - S],
                                        has_down ? sp22[o] : T(0));
        T u1 = su1[o], u2 = su2[o];
        tvl1::primal_update(co, __ldg(rcp), __ldg(gxp), __ldg(gyp), div1, div2, u1, u2);
        su1[o] = u1;
        su2[o] = u2;
      }
    }
    band_sync(a.cs);
    if (from_below) {  // the band below's first row of u into local row bh
      const T* rem = band_remote(sm, rank + 1);
      for (int j = tid; j < W; j += nthreads) {
        su1[off(bh, j)] = rem[off(0, j)];
        su2[off(bh, j)] = rem[A + off(0, j)];
      }
    }
    __syncthreads();
    // Pass B: p = (p + taut ∇u) / n.
    for (int li = threadIdx.y; li < rows; li += blockDim.y) {
#pragma unroll
      for (int k = 0; k < cols; ++k) {
        const int j = threadIdx.x + 32 * k;
        if (!kColsExact && j >= W) break;
        const int o = off(li, j);
        T ax, ay;
        tvl1::forward_diff(co, su1[o], su1[o + 1], su1[o + S], ax, ay);
        tvl1::dual_update(co, ax, ay, sp11[o], sp12[o]);
        tvl1::forward_diff(co, su2[o], su2[o + 1], su2[o + S], ax, ay);
        tvl1::dual_update(co, ax, ay, sp21[o], sp22[o]);
      }
    }
    band_sync(a.cs);
    if (from_above && it + 1 < a.iters) {  // the band above's last row of p12, p22 into row -1
      const T* rem = band_remote(sm, rank - 1);
      for (int j = tid; j < W; j += nthreads) {
        sp12[off(-1, j)] = rem[3 * A + off(bh - 1, j)];
        sp22[off(-1, j)] = rem[5 * A + off(bh - 1, j)];
      }
    }
    const int done = it + 1;
    if (a.store != nullptr && done % a.store_every == 0 && done / a.store_every <= a.store_count) {
      T* dst = a.store + static_cast<int64_t>(done / a.store_every - 1) * 6 * g.m;
      for (int li = threadIdx.y; li < rows; li += blockDim.y) {
        for (int j = threadIdx.x; j < W; j += 32) {
          for (int k = 0; k < 6; ++k) dst[k * g.m + gidx(r0 + li, j)] = sm[k * A + off(li, j)];
        }
      }
    }
    __syncthreads();
  }

  // flow[n, t] = (u1, u2) of pair (n, t), and again at t + 1 for the last pair of a clip.
  if (a.flow != nullptr) {
    const int64_t p = plane / C, ch = plane % C;
    const int64_t n = p / (g.t - 1), t = p % (g.t - 1);
    const bool last = t == g.t - 2;
    const int64_t frame = static_cast<int64_t>(H) * W * 2 * C;
    for (int li = threadIdx.y; li < rows; li += blockDim.y) {
      for (int j = threadIdx.x; j < W; j += 32) {
        const int o = off(li, j);
        T* f = a.flow + (((n * g.t + t) * H + r0 + li) * W + j) * 2 * C + ch;
        f[0] = su1[o];
        f[C] = su2[o];
        if (last) {
          f[frame] = su1[o];
          f[frame + C] = su2[o];
        }
      }
    }
  }
  band_sync(a.cs);
}

// Reverse of one iteration (see the CPU's backward_iteration). s0 / s1: state before / after it.
// adj_in: gradients of s1 (u1, u2, p11, p12, p21, p22); adj_out: gradients of s0. bars: gx_bar,
// gy_bar, rho_c_bar accumulators (m each). partial: kSlots doubles per block, accumulated.
template <class T>
__global__ void __launch_bounds__(kBwdThreads)
    backward_iteration_kernel(const T* __restrict__ pre, const T* __restrict__ s0,
                              const T* __restrict__ s1, const T* __restrict__ adj_in,
                              T* __restrict__ adj_out, T* __restrict__ bars, double* partial,
                              Coeffs<T> co, Geometry g, int64_t plane0, bool want_params) {
  constexpr int TW = kBwdTileW, TH = kBwdTileH;
  constexpr int UW = TW + 3, UH = TH + 3;  // u' of s1: rows [r0-1, r0+TH+2), cols [c0-1, c0+TW+2)
  constexpr int AW = TW + 2, AH = TH + 2;  // a_bar, b_bar: rows [r0-1, r0+TH+1), same cols
  constexpr int BW = TW + 1, BH = TH + 1;  // u'_bar: rows [r0, r0+TH+1), cols [c0, c0+TW+1)
  __shared__ T su[2][UH * UW];
  __shared__ T sab[4][AH * AW];  // a_bar1, b_bar1, a_bar2, b_bar2
  __shared__ T spd[4][TH * TW];  // direct part of the old duals' gradients, tile only
  __shared__ T sub[2][BH * BW];

  const int64_t plane = plane0 + blockIdx.z;
  const int64_t base = (plane / g.c) * g.h * g.w * g.c + plane % g.c;
  const int r0 = static_cast<int>(blockIdx.y) * TH, c0 = static_cast<int>(blockIdx.x) * TW;
  auto inside = [&](int i, int j) { return i >= 0 && i < g.h && j >= 0 && j < g.w; };
  auto at = [&](int i, int j) { return base + (static_cast<int64_t>(i) * g.w + j) * g.c; };
  double acc[kSlots];
  for (int k = 0; k < kSlots; ++k) acc[k] = 0;

  // 1. u' of s1 around the tile.
  for (int e = threadIdx.x; e < UH * UW; e += blockDim.x) {
    const int gi = r0 - 1 + e / UW, gj = c0 - 1 + e % UW;
    const bool in = inside(gi, gj);
    su[0][e] = in ? s1[at(gi, gj)] : T(0);
    su[1][e] = in ? s1[g.m + at(gi, gj)] : T(0);
  }
  __syncthreads();

  // 2. Reverse of the dual update on the tile + 1.
  for (int e = threadIdx.x; e < AH * AW; e += blockDim.x) {
    const int li = e / AW, lj = e % AW;
    const int gi = r0 - 1 + li, gj = c0 - 1 + lj;
    const bool own = li >= 1 && li <= TH && lj >= 1 && lj <= TW;  // a tile pixel of this block
    for (int comp = 0; comp < 2; ++comp) {
      T a_bar = T(0), b_bar = T(0);
      if (inside(gi, gj)) {
        const TilePlane<T> uv{su[comp], r0 - 1, c0 - 1, UH, UW};
        T a, b;
        tvl1::forward_diff_at(co, uv, gi, gj, g.h, g.w, a, b);
        const int64_t q = at(gi, gj);
        const int64_t ka = (2 + 2 * comp) * g.m + q, kb = (3 + 2 * comp) * g.m + q;
        T pa_bar, pb_bar;
        double taut_acc = 0;
        tvl1::dual_adjoint(co, a, b, s1[ka], s1[kb], adj_in[ka], adj_in[kb], a_bar, b_bar, pa_bar,
                           pb_bar, taut_acc);
        if (own) {
          spd[2 * comp][(li - 1) * TW + lj - 1] = pa_bar;
          spd[2 * comp + 1][(li - 1) * TW + lj - 1] = pb_bar;
          if (want_params) {
            acc[tvl1::kTaut] += taut_acc;
            tvl1::forward_diff_taps_at(uv, a_bar, b_bar, gi, gj, g.h, g.w, acc);
          }
        }
      }
      sab[2 * comp][e] = a_bar;
      sab[2 * comp + 1][e] = b_bar;
    }
  }
  __syncthreads();

  // 3. u'_bar = incoming + transposed forward differences, on the tile + 1 (right / down).
  for (int e = threadIdx.x; e < BH * BW; e += blockDim.x) {
    const int gi = r0 + e / BW, gj = c0 + e % BW;
    for (int comp = 0; comp < 2; ++comp) {
      T v = T(0);
      if (inside(gi, gj)) {
        const TilePlane<T> av{sab[2 * comp], r0 - 1, c0 - 1, AH, AW};
        const TilePlane<T> bv{sab[2 * comp + 1], r0 - 1, c0 - 1, AH, AW};
        v = adj_in[comp * g.m + at(gi, gj)] + tvl1::forward_diff_adjoint_at(co, av, bv, gi, gj);
      }
      sub[comp][e] = v;
    }
  }
  __syncthreads();

  // 4. Divergence transpose and data-term adjoint on the tile.
  for (int e = threadIdx.x; e < TH * TW; e += blockDim.x) {
    const int gi = r0 + e / TW, gj = c0 + e % TW;
    if (!inside(gi, gj)) continue;
    const int64_t q = at(gi, gj);
    T ubv[2];
    for (int comp = 0; comp < 2; ++comp) {
      const TilePlane<T> ub{sub[comp], r0, c0, BH, BW};
      ubv[comp] = ub(gi, gj);
      T pa_bar, pb_bar;
      tvl1::divergence_adjoint_at(co, ub, gi, gj, g.h, g.w, pa_bar, pb_bar);
      adj_out[(2 + 2 * comp) * g.m + q] = spd[2 * comp][e] + pa_bar;
      adj_out[(3 + 2 * comp) * g.m + q] = spd[2 * comp + 1][e] + pb_bar;
      if (want_params) {
        T sx0, sx1, sy0, sy1;
        tvl1::divergence_terms_at<T>(GlobalPlane<T>{s0 + (2 + 2 * comp) * g.m + base, g.w, g.c},
                                     GlobalPlane<T>{s0 + (3 + 2 * comp) * g.m + base, g.w, g.c}, gi,
                                     gj, g.h, g.w, sx0, sx1, sy0, sy1);
        tvl1::divergence_taps(co, ubv[comp], sx0, sx1, sy0, sy1, acc);
      }
    }
    const T gxv = pre[q], gyv = pre[g.m + q];
    const T u1 = s0[q], u2 = s0[g.m + q];
    const T grad = tvl1::grad_sq(co, gxv, gyv);
    const T rho = tvl1::residual(co, pre[2 * g.m + q], gxv, gyv, u1, u2);
    T u1_bar = ubv[0], u2_bar = ubv[1];
    T gx_bar = bars[q], gy_bar = bars[g.m + q], rc_bar = bars[2 * g.m + q];
    double lt_acc = 0;
    tvl1::data_adjoint(co, rho, gxv, gyv, grad, u1, u2, ubv[0], ubv[1], u1_bar, u2_bar, gx_bar,
                       gy_bar, rc_bar, lt_acc);
    bars[q] = gx_bar;
    bars[g.m + q] = gy_bar;
    bars[2 * g.m + q] = rc_bar;
    adj_out[q] = u1_bar;
    adj_out[g.m + q] = u2_bar;
    acc[tvl1::kLt] += lt_acc;
  }

  if (want_params) {
    const int64_t blk =
        (static_cast<int64_t>(blockIdx.z) * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    for (int k = 0; k < kSlots; ++k) {
      const double s = block_reduce_sum(acc[k]);
      if (threadIdx.x == 0) partial[blk * kSlots + k] += s;
    }
  }
}

// Gradients of the final u from the flow's gradient (the duplicated frame adds to the last pair).
template <class T>
__global__ void init_adjoint_kernel(const T* __restrict__ grad_flow, Geometry g, T* adj) {
  ASN_GRID_STRIDE_LOOP(idx, g.m) {
    const int64_t ch = idx % g.c;
    const int64_t pix = idx / g.c;  // (p, i, j)
    const int64_t hw = static_cast<int64_t>(g.h) * g.w;
    const int64_t p = pix / hw, ij = pix % hw;
    const int64_t n = p / (g.t - 1), t = p % (g.t - 1);
    const T* gf = grad_flow + ((n * g.t + t) * hw + ij) * 2 * g.c;
    const T* g2 = gf + hw * 2 * g.c;
    const bool last = t == g.t - 2;
    adj[idx] = last ? gf[ch] + g2[ch] : gf[ch];
    adj[g.m + idx] = last ? gf[g.c + ch] + g2[g.c + ch] : gf[g.c + ch];
  }
}

template <class T>
__global__ void write_flow_kernel(const T* __restrict__ state, Geometry g, int64_t n_clips,
                                  T* flow) {
  const int64_t hw = static_cast<int64_t>(g.h) * g.w;
  const int64_t total = n_clips * g.t * hw * g.c;
  ASN_GRID_STRIDE_LOOP(idx, total) {
    const int64_t ch = idx % g.c;
    const int64_t pix = idx / g.c;  // (n, t, i, j)
    const int64_t ij = pix % hw, nt = pix / hw;
    const int64_t n = nt / g.t, t = nt % g.t;
    const int64_t p = n * (g.t - 1) + (t < g.t - 1 ? t : g.t - 2);
    const int64_t src = (p * hw + ij) * g.c + ch;
    flow[pix * 2 * g.c + ch] = state[src];
    flow[pix * 2 * g.c + g.c + ch] = state[g.m + src];
  }
}

// Image gradients: frame t gets -rho_c_bar of pair t and rho_c_bar + transposed central
// gradients of pair t - 1 (gathered per element: no races).
template <class T>
__global__ void image_grad_kernel(const T* __restrict__ bars, Geometry g, int64_t n_clips,
                                  Coeffs<T> co, T* grad_image) {
  const int64_t hw = static_cast<int64_t>(g.h) * g.w;
  const int64_t hwc = hw * g.c;
  const int64_t total = n_clips * g.t * hwc;
  ASN_GRID_STRIDE_LOOP(idx, total) {
    const int64_t ch = idx % g.c;
    const int64_t pix = idx / g.c;
    const int64_t ij = pix % hw, nt = pix / hw;
    const int64_t n = nt / g.t, t = nt % g.t;
    const int i = static_cast<int>(ij / g.w), j = static_cast<int>(ij % g.w);
    T v = T(0);
    if (t < g.t - 1) v -= bars[2 * g.m + (n * (g.t - 1) + t) * hwc + ij * g.c + ch];
    if (t >= 1) {
      const int64_t prev = (n * (g.t - 1) + t - 1) * hwc;
      v += bars[2 * g.m + prev + ij * g.c + ch] +
           tvl1::image_grad_adjoint_at(co, GlobalPlane<T>{bars + prev + ch, g.w, g.c},
                                       GlobalPlane<T>{bars + g.m + prev + ch, g.w, g.c}, i, j, g.h,
                                       g.w);
    }
    grad_image[idx] = v;
  }
}

// Tap gradients of the central image gradients: one partial per block (fixed grid).
template <class T>
__global__ void image_taps_kernel(const T* __restrict__ image, const T* __restrict__ bars,
                                  Geometry g, double* partial) {
  double acc[kSlots];
  for (int k = 0; k < kSlots; ++k) acc[k] = 0;
  const int64_t hw = static_cast<int64_t>(g.h) * g.w;
  const int64_t hwc = hw * g.c;
  ASN_GRID_STRIDE_LOOP(idx, g.m) {
    const int64_t ch = idx % g.c;
    const int64_t pix = idx / g.c;
    const int64_t p = pix / hw, ij = pix % hw;
    const int64_t n = p / (g.t - 1), t = p % (g.t - 1);
    const T* i1 = image + (n * g.t + t + 1) * hwc + ch;
    tvl1::image_grad_taps_at(GlobalPlane<T>{i1, g.w, g.c}, bars[idx], bars[g.m + idx],
                             static_cast<int>(ij / g.w), static_cast<int>(ij % g.w), g.h, g.w, acc);
  }
  for (int k = tvl1::kImgGradX; k < tvl1::kImgGradY + 3; ++k) {
    const double s = block_reduce_sum(acc[k]);
    if (threadIdx.x == 0) partial[blockIdx.x * kSlots + k] = s;
  }
}

Geometry geometry(const TvL1Dims& d) {
  Geometry g;
  g.pairs = d.pairs();
  g.m = d.state_size();
  g.t = static_cast<int>(d.t);
  g.h = static_cast<int>(d.h);
  g.w = static_cast<int>(d.w);
  g.c = static_cast<int>(d.c);
  return g;
}

void check_dims(const char* op, const TvL1Dims& d) {
  ASN_CHECK_SHAPE(d.h < (1 << 30) && d.w < (1 << 30) && d.c < (1 << 30) && d.t < (1 << 30),
                  "{}: axes too large for the CUDA kernels (H {}, W {}, C {})", op, d.h, d.w, d.c);
}

// Largest number of fused iterations whose tile fits the device's shared memory.
template <class T>
int fused_limit(int device) {
  int optin = 0;
  ASN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  int j = kMaxFused;
  while (j > 1 && forward_smem_bytes(j, sizeof(T)) > static_cast<size_t>(optin)) --j;
  ASN_CHECK_AS(DeviceError, forward_smem_bytes(j, sizeof(T)) <= static_cast<size_t>(optin),
               "tvl1_flow: the fused kernel needs {} bytes of shared memory, the device offers {}",
               forward_smem_bytes(j, sizeof(T)), optin);
  const size_t bytes = forward_smem_bytes(j, sizeof(T));
  ASN_CUDA_CHECK(cudaFuncSetAttribute(forward_fused_kernel<T>,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(bytes)));
  return j;
}

// `iters` iterations from state `in` to state `out` (distinct buffers), every plane.
template <class T>
void launch_forward(const T* pre, const T* in, T* out, const Coeffs<T>& co, const Geometry& g,
                    int iters, cudaStream_t stream) {
  const int64_t planes = g.pairs * g.c;
  const dim3 grid((g.w + kFwdTileW - 1) / kFwdTileW, (g.h + kFwdTileH - 1) / kFwdTileH, 1);
  const size_t bytes = forward_smem_bytes(iters, sizeof(T));
  for (int64_t z0 = 0; z0 < planes; z0 += kMaxGridZ) {
    dim3 gz = grid;
    gz.z = static_cast<unsigned>(std::min<int64_t>(kMaxGridZ, planes - z0));
    forward_fused_kernel<T><<<gz, kFwdThreads, bytes, stream>>>(pre, in, out, co, g, iters, z0);
    ASN_KERNEL_CHECK("tvl1_flow forward");
  }
}

// ASN_REPFLOW_BAND_SPECIALIZED=0 keeps every plane on the generic band kernel (for comparison:
// the 224 x 224 specialisation was written in a session without a GPU).
bool band_specialization_enabled() {
  static const bool enabled = env_switch("ASN_REPFLOW_BAND_SPECIALIZED", true);
  return enabled;
}

template <class T>
using BandKernelFn = void (*)(BandArgs<T>, Coeffs<T>, Geometry);

// The band kernel for planes w wide in bands of bh rows with c channels: the f32 224 x 224
// one-channel specialisation (8 bands of 28 rows), or the generic kernel.
template <class T>
BandKernelFn<T> band_kernel_for(int w, int bh, int c) {
  if constexpr (std::is_same<T, float>::value) {
    if (w == 224 && bh == 28 && c == 1 && band_specialization_enabled()) {
      return band_kernel<float, 224, 28>;
    }
  }
  return band_kernel<T, 0, 0>;
}

// Picks the smallest cluster size whose band fits the device's shared memory (and, for cs > 1,
// that the device can keep such a cluster resident). Not ok: the caller uses the tiled kernels.
template <class T>
BandPlan band_plan(const Geometry& g, int device) {
  BandPlan plan;
  int optin = 0;
  ASN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  cudaFuncAttributes fa{};
  ASN_CUDA_CHECK(cudaFuncGetAttributes(&fa, band_kernel<T, 0, 0>));
  for (int cs : {1, 2, 4, 8}) {
    if (cs > 1 && fa.binaryVersion < 90) break;  // clusters need code built for sm_90 or later
    const int bh = (g.h + cs - 1) / cs;
    const size_t bytes = band_smem_bytes(bh, g.w, sizeof(T));
    if (bytes > static_cast<size_t>(optin)) continue;
    const BandKernelFn<T> fn = band_kernel_for<T>(g.w, bh, g.c);
    ASN_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
    const int by = std::min(32, bh);
    if (cs > 1) {
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(cs, 1, 1);
      cfg.blockDim = dim3(32, by, 1);
      cfg.dynamicSmemBytes = bytes;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = cs;
      attr[0].val.clusterDim.y = 1;
      attr[0].val.clusterDim.z = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      int clusters = 0;
      if (cudaOccupancyMaxActiveClusters(&clusters, fn, &cfg) != cudaSuccess) {
        (void)cudaGetLastError();  // clear it: an unsupported configuration is not an error here
        continue;
      }
      if (clusters < 1) continue;
    }
    plan.ok = true;
    plan.cs = cs;
    plan.bh = bh;
    plan.by = by;
    plan.bytes = bytes;
    return plan;
  }
  return plan;
}

// One band-kernel launch per chunk of at most 65535 planes (grid y).
template <class T>
void launch_band(const BandPlan& plan, BandArgs<T> a, const Coeffs<T>& co, const Geometry& g,
                 cudaStream_t stream) {
  a.cs = plan.cs;
  a.bh = plan.bh;
  const int64_t planes = g.pairs * g.c;
  for (int64_t z0 = 0; z0 < planes; z0 += kMaxGridZ) {
    a.plane0 = z0;
    cudaLaunchConfig_t cfg = {};
    const int64_t chunk = std::min<int64_t>(kMaxGridZ, planes - z0);
    cfg.gridDim = dim3(plan.cs, static_cast<unsigned>(chunk), 1);
    cfg.blockDim = dim3(32, plan.by, 1);
    cfg.dynamicSmemBytes = plan.bytes;
    cfg.stream = stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = plan.cs;
    attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    cfg.attrs = attr;
    cfg.numAttrs = plan.cs > 1 ? 1 : 0;
    ASN_CUDA_CHECK(cudaLaunchKernelEx(&cfg, band_kernel_for<T>(g.w, plan.bh, g.c), a, co, g));
    ASN_KERNEL_CHECK("tvl1_flow band");
  }
}

}  // namespace

template <class T>
void tvl1_flow_forward(const T* image, const TvL1Dims& d, const TvL1Params& prm, T* flow,
                       T* checkpoints, int device) {
  check_dims("tvl1_flow", d);
  asn::cuda::set_device(device);
  cudaStream_t stream = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  const int64_t flow_numel = d.n * d.t * d.h * d.w * 2 * d.c;
  if (d.pairs() == 0) {  // T == 1: zero flow
    asn::cuda::memset_zero(flow, static_cast<size_t>(flow_numel) * sizeof(T), device);
    return;
  }
  const Geometry g = geometry(d);
  const Coeffs<T> co = tvl1_coeffs<T>(prm);
  Tensor pre = Tensor::empty(Shape{3 * g.m}, dtype_of<T>(), dev);
  T* pp = pre.data<T>();
  precompute_kernel<T><<<grid_1d(g.m), kBlock, 0, stream>>>(image, g, co, pp, pp + g.m,
                                                            pp + 2 * g.m);
  ASN_KERNEL_CHECK("tvl1_flow precompute");
  const int k_every = d.interval();

  const BandPlan plan = band_plan<T>(g, device);
  if (plan.ok) {  // one launch: every iteration, the checkpoints and the flow
    BandArgs<T> a{};
    a.pre = pp;
    a.in = nullptr;
    a.store = checkpoints;
    a.store_every = k_every;
    a.store_count = checkpoints != nullptr ? static_cast<int>(d.num_checkpoints()) : 0;
    a.flow = flow;
    a.iters = d.iterations;
    launch_band<T>(plan, a, co, g, stream);
    return;
  }

  // Tiled fallback (a band does not fit in shared memory): fused launches of up to 4 iterations.
  Tensor sa = Tensor::zeros(Shape{6 * g.m}, dtype_of<T>(), dev);
  Tensor sb = Tensor::empty(Shape{6 * g.m}, dtype_of<T>(), dev);
  const int fused = fused_limit<T>(device);
  T* cur = sa.data<T>();
  T* nxt = sb.data<T>();
  int k = 0;
  while (k < d.iterations) {
    const int boundary = (k / k_every + 1) * k_every;
    const int j = std::min({fused, d.iterations - k, boundary - k});
    launch_forward<T>(pp, cur, nxt, co, g, j, stream);
    std::swap(cur, nxt);
    k += j;
    if (checkpoints != nullptr && k % k_every == 0 && k < d.iterations) {
      ASN_CUDA_CHECK(cudaMemcpyAsync(checkpoints + (k / k_every - 1) * 6 * g.m, cur,
                                     6 * g.m * sizeof(T), cudaMemcpyDeviceToDevice, stream));
    }
  }
  write_flow_kernel<T><<<grid_1d(flow_numel / 2), kBlock, 0, stream>>>(cur, g, d.n, flow);
  ASN_KERNEL_CHECK("tvl1_flow write");
}

template <class T>
void tvl1_flow_backward(const T* image, const T* checkpoints, const T* grad_flow,
                        const TvL1Dims& d, const TvL1Params& prm, T* grad_image,
                        TvL1ParamGrads* grad_params, int device) {
  check_dims("tvl1_flow", d);
  asn::cuda::set_device(device);
  cudaStream_t stream = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  if (d.pairs() == 0) {  // constant zero flow: zero gradients
    if (grad_image != nullptr)
      asn::cuda::memset_zero(grad_image, static_cast<size_t>(d.n * d.t * d.plane()) * sizeof(T),
                             device);
    if (grad_params != nullptr) *grad_params = TvL1ParamGrads{};
    return;
  }
  const Geometry g = geometry(d);
  const Coeffs<T> co = tvl1_coeffs<T>(prm);
  const bool want_params = grad_params != nullptr;
  Tensor pre = Tensor::empty(Shape{3 * g.m}, dtype_of<T>(), dev);
  T* pp = pre.data<T>();
  precompute_kernel<T><<<grid_1d(g.m), kBlock, 0, stream>>>(image, g, co, pp, pp + g.m,
                                                            pp + 2 * g.m);
  ASN_KERNEL_CHECK("tvl1_flow precompute");

  Tensor adj_a = Tensor::zeros(Shape{6 * g.m}, dtype_of<T>(), dev);
  Tensor adj_b = Tensor::empty(Shape{6 * g.m}, dtype_of<T>(), dev);
  Tensor bars = Tensor::zeros(Shape{3 * g.m}, dtype_of<T>(), dev);
  init_adjoint_kernel<T><<<grid_1d(g.m), kBlock, 0, stream>>>(grad_flow, g, adj_a.data<T>());
  ASN_KERNEL_CHECK("tvl1_flow backward init");

  const int64_t planes = g.pairs * g.c;
  const dim3 bgrid((g.w + kBwdTileW - 1) / kBwdTileW, (g.h + kBwdTileH - 1) / kBwdTileH, 1);
  const int64_t tiles = static_cast<int64_t>(bgrid.x) * bgrid.y;
  Tensor partial = Tensor::zeros(Shape{want_params ? planes * tiles * kSlots : 1}, DType::f64, dev);

  const BandPlan plan = band_plan<T>(g, device);
  if (!plan.ok) fused_limit<T>(device);  // sets the shared-memory attribute of the tiled kernel
  const int k_every = d.interval();
  const int num_segments = (d.iterations + k_every - 1) / k_every;
  const int64_t seg_slots = std::min(k_every, d.iterations) + 1;
  Tensor seg = Tensor::empty(Shape{seg_slots * 6 * g.m}, dtype_of<T>(), dev);
  T* sp = seg.data<T>();
  T* ain = adj_a.data<T>();
  T* aout = adj_b.data<T>();
  for (int s = num_segments - 1; s >= 0; --s) {
    const int k0 = s * k_every, k1 = std::min(k0 + k_every, d.iterations);
    if (s == 0) {
      asn::cuda::memset_zero(sp, 6 * g.m * sizeof(T), device);
    } else {
      ASN_CHECK(checkpoints != nullptr, "tvl1_flow backward: checkpoints are missing");
      ASN_CUDA_CHECK(cudaMemcpyAsync(sp, checkpoints + (s - 1) * 6 * g.m, 6 * g.m * sizeof(T),
                                     cudaMemcpyDeviceToDevice, stream));
    }
    if (plan.ok) {  // one launch stores the states after iterations k0 + 1 .. k1 in slots 1 ..
      BandArgs<T> a{};
      a.pre = pp;
      a.in = sp;
      a.store = sp + 6 * g.m;
      a.store_every = 1;
      a.store_count = k1 - k0;
      a.flow = nullptr;
      a.iters = k1 - k0;
      launch_band<T>(plan, a, co, g, stream);
    } else {
      for (int k = k0; k < k1; ++k) {
        const T* src = sp + (k - k0) * 6 * g.m;
        launch_forward<T>(pp, src, sp + (k - k0 + 1) * 6 * g.m, co, g, 1, stream);
      }
    }
    for (int k = k1 - 1; k >= k0; --k) {
      const T* s0 = sp + (k - k0) * 6 * g.m;
      for (int64_t z0 = 0; z0 < planes; z0 += kMaxGridZ) {
        dim3 gz = bgrid;
        gz.z = static_cast<unsigned>(std::min<int64_t>(kMaxGridZ, planes - z0));
        backward_iteration_kernel<T><<<gz, kBwdThreads, 0, stream>>>(
            pp, s0, s0 + 6 * g.m, ain, aout, bars.data<T>(),
            partial.data<double>() + z0 * tiles * kSlots, co, g, z0, want_params);
        ASN_KERNEL_CHECK("tvl1_flow backward");
      }
      std::swap(ain, aout);
    }
  }

  if (grad_image != nullptr) {
    const int64_t total = d.n * d.t * d.plane();
    image_grad_kernel<T><<<grid_1d(total), kBlock, 0, stream>>>(bars.data<T>(), g, d.n, co,
                                                                grad_image);
    ASN_KERNEL_CHECK("tvl1_flow backward image");
  }
  if (want_params) {
    const int blocks = static_cast<int>(std::min<int64_t>(1024, (g.m + kBlock - 1) / kBlock));
    Tensor taps = Tensor::zeros(Shape{static_cast<int64_t>(blocks) * kSlots}, DType::f64, dev);
    image_taps_kernel<T><<<blocks, kBlock, 0, stream>>>(image, bars.data<T>(), g,
                                                        taps.data<double>());
    ASN_KERNEL_CHECK("tvl1_flow backward taps");
    double slots[kSlots] = {0};
    for (const Tensor& t : {partial, taps}) {
      const std::vector<double> v = t.to_vector<double>();  // synchronises
      for (size_t b = 0; b + kSlots <= v.size(); b += kSlots)
        for (int k = 0; k < kSlots; ++k) slots[k] += v[b + static_cast<size_t>(k)];
    }
    *grad_params = tvl1_param_grads_from_slots(slots, prm);
  }
}

template void tvl1_flow_forward<float>(const float*, const TvL1Dims&, const TvL1Params&, float*,
                                       float*, int);
template void tvl1_flow_forward<double>(const double*, const TvL1Dims&, const TvL1Params&,
                                        double*, double*, int);
template void tvl1_flow_backward<float>(const float*, const float*, const float*, const TvL1Dims&,
                                        const TvL1Params&, float*, TvL1ParamGrads*, int);
template void tvl1_flow_backward<double>(const double*, const double*, const double*,
                                         const TvL1Dims&, const TvL1Params&, double*,
                                         TvL1ParamGrads*, int);

}  // namespace asn::kernels::cuda
