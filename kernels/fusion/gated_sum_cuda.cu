// CUDA gated_sum (see gated_sum.h for the maths and the determinism contract).
//
// Channel vectors: a thread handles V consecutive channels (V = 16 bytes / sizeof(T) when C is a
// multiple of V and every pointer is 16-byte aligned, else V = 1), channel fastest across a warp,
// so the warp's loads of one window element are one contiguous run of the input row.
//
// forward:  one thread per (n, t, ho, wo, channel vector); for each input in order it scans the
//           r x r window (the CPU's tie rule), multiplies by w_j and the gate, adds into a register
//           and writes S once. Inputs beyond kGatedSumMaxInputsPerLaunch go to further launches
//           that load S and keep adding in order.
// forward, identity inputs (every input already at (Hs, Ws): AssembleNet++'s peer-attention nodes
//           at one level): S and every x_j are the same flat array, so a thread takes V
//           consecutive flat elements whatever C is (16-byte vectors whenever the element count
//           and the pointers allow; C = 25 or 151 no longer falls back to scalar loads), issues the
//           loads of all its inputs before any arithmetic (memory-level parallelism), and finds
//           each element's (frame, channel) for the gate by stepping from the first one instead of
//           dividing per element. Same terms, same order as the general kernel.
// backward: kernel 1, one block per (frame, run of up to 32 channel vectors); its 1024 threads
//           are 32 (or fewer) channel vectors x L position lanes, L = 1024 / (channel vectors per
//           block), fixed by C alone (see backward_threads). Each thread walks the positions lane, lane + L, ... of the
//           frame (an identity input: reads x_j and writes dx_j at the position itself, no window
//           and no index division): recomputes the window max and argmax, writes the whole window of dx_j (gradient
//           at the argmax, zeros elsewhere) and accumulates p = sum dS * m in double. The lanes'
//           p are added in lane order through shared memory, giving da_j, and the block's dw term
//           sum_c a * p goes through the fixed block reduction tree to one double per (input,
//           block). Kernel 2 (one block) adds those partials in block order, input by input, into
//           dw. No atomics anywhere.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "engine/runtime_flags.h"
#include "engine/tensor.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/fusion/gated_sum.h"
#include "kernels/fusion/gated_sum_math.h"
#include "kernels/pool/pool3d_cuda.cuh"  // cuda::fits_int32

namespace asn::kernels {

namespace {

constexpr int kMax = kGatedSumMaxInputsPerLaunch;

// One launch's inputs, passed by value as a kernel argument.
template <class T>
struct LaunchInputs {
  const T* x[kMax];
  const T* gate[kMax];  // nullptr: ungated
  T* dx[kMax];          // backward only; nullptr: not needed
  T* dgate[kMax];       // backward only; nullptr: not needed
  int32_t H[kMax], W[kMax], r[kMax], pad_h[kMax], pad_w[kMax];
  int32_t weight_index[kMax];
  int32_t global[kMax];  // the input's index in the whole call (rows of the dw partials)
  int count;
};

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <class T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
template <class T, int V>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// The resized row m of input j at (ho, wo) for the V channels at `frame` (already offset to the
// frame and the first channel), and each channel's winning position h * W + w.
template <class T, int V, bool WithArg>
__device__ __forceinline__ Vec<T, V> window_max(const T* __restrict__ frame, int32_t H, int32_t W,
                                                int32_t r, int32_t pad_h, int32_t pad_w, int32_t ho,
                                                int32_t wo, int64_t C, int32_t (&arg)[V]) {
  if (r == 1) {
    const int32_t pos = ho * W + wo;
    if (WithArg)
      for (int l = 0; l < V; ++l) arg[l] = pos;
    return load_vec<T, V>(frame + static_cast<int64_t>(pos) * C);
  }
  const PoolRange rh = gated_sum_window(ho, H, r, pad_h);
  const PoolRange rw = gated_sum_window(wo, W, r, pad_w);
  const int32_t first = static_cast<int32_t>(rh.begin * W + rw.begin);
  Vec<T, V> best = load_vec<T, V>(frame + static_cast<int64_t>(first) * C);
  if (WithArg)
    for (int l = 0; l < V; ++l) arg[l] = first;
  // Comparing the first element with itself changes nothing (not greater; a NaN best is never
  // replaced), so the scan need not skip it.
  for (int32_t h = static_cast<int32_t>(rh.begin); h < rh.end; ++h) {
#pragma unroll 4
    for (int32_t w = static_cast<int32_t>(rw.begin); w < rw.end; ++w) {
      const int32_t pos = h * W + w;
      const Vec<T, V> v = load_vec<T, V>(frame + static_cast<int64_t>(pos) * C);
      for (int l = 0; l < V; ++l) {
        const bool take = gated_sum_replaces(v.v[l], best.v[l]);
        best.v[l] = take ? v.v[l] : best.v[l];
        if (WithArg) arg[l] = take ? pos : arg[l];
      }
    }
  }
  return best;
}

template <class T, int V, class I>
__global__ void gated_sum_forward_kernel(const LaunchInputs<T> in, const T* __restrict__ weights,
                                         T* __restrict__ s, int32_t Hs, int32_t Ws, int64_t C,
                                         I total, bool accumulate) {
  const I CV = static_cast<I>(C / V);
  const I stride = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += stride) {
    const I cv = i % CV;
    I q = i / CV;
    const int32_t wo = static_cast<int32_t>(q % Ws);
    q /= Ws;
    const int32_t ho = static_cast<int32_t>(q % Hs);
    const int64_t f = static_cast<int64_t>(q / Hs);
    const int64_t c0 = static_cast<int64_t>(cv) * V;
    T* sp = s + static_cast<int64_t>(i) * V;  // S is (frame, ho, wo, c): i enumerates it in order
    Vec<T, V> acc{};
    if (accumulate) acc = load_vec<T, V>(sp);
    int32_t unused[V];
    for (int j = 0; j < in.count; ++j) {
      const int64_t H = in.H[j], W = in.W[j];
      const T w = weights[in.weight_index[j]];
      const T* frame = in.x[j] + f * H * W * C + c0;
      const Vec<T, V> m = window_max<T, V, false>(frame, in.H[j], in.W[j], in.r[j], in.pad_h[j],
                                                  in.pad_w[j], ho, wo, C, unused);
      Vec<T, V> term;
      if (in.gate[j] != nullptr) {
        const Vec<T, V> a = load_vec<T, V>(in.gate[j] + f * C + c0);
        for (int l = 0; l < V; ++l) term.v[l] = gated_sum_term(w, m.v[l], a.v[l]);
      } else {
        for (int l = 0; l < V; ++l) term.v[l] = gated_sum_term(w, m.v[l]);
      }
      if (j == 0 && !accumulate) {
        acc = term;
      } else {
        for (int l = 0; l < V; ++l) acc.v[l] += term.v[l];
      }
    }
    store_vec<T, V>(sp, acc);
  }
}

// Identity inputs only (see the file comment). V consecutive flat elements per thread; GateVec:
// C is a multiple of V, so the V elements share a frame and their gates are one vector load.
template <class T, int V, bool GateVec>
__global__ void gated_sum_identity_forward_kernel(const LaunchInputs<T> in,
                                                  const T* __restrict__ weights, T* __restrict__ s,
                                                  int64_t C, int64_t frame_elems, int64_t total,
                                                  bool accumulate) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x * V;
  for (int64_t e = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * V; e < total;
       e += stride) {
    // Every input's vector first: up to kMax independent loads in flight.
    Vec<T, V> xv[kMax];
#pragma unroll
    for (int j = 0; j < kMax; ++j) {
      if (j < in.count) xv[j] = load_vec<T, V>(in.x[j] + e);
    }
    // (frame, channel) of each of the V elements (gated_sum_math.h).
    int64_t f[V], c[V];
    gated_sum_flat_indices<V>(e, C, frame_elems, f, c);
    Vec<T, V> acc{};
    if (accumulate) acc = load_vec<T, V>(s + e);
#pragma unroll
    for (int j = 0; j < kMax; ++j) {
      if (j >= in.count) break;
      const T w = weights[in.weight_index[j]];
      const T* gate = in.gate[j];
      Vec<T, V> term;
      if (gate == nullptr) {
        for (int l = 0; l < V; ++l) term.v[l] = gated_sum_term(w, xv[j].v[l]);
      } else if (GateVec) {
        const Vec<T, V> a = load_vec<T, V>(gate + f[0] * C + c[0]);
        for (int l = 0; l < V; ++l) term.v[l] = gated_sum_term(w, xv[j].v[l], a.v[l]);
      } else {
        for (int l = 0; l < V; ++l) term.v[l] = gated_sum_term(w, xv[j].v[l], gate[f[l] * C + c[l]]);
      }
      if (j == 0 && !accumulate) {
        acc = term;
      } else {
        for (int l = 0; l < V; ++l) acc.v[l] += term.v[l];
      }
    }
    store_vec<T, V>(s + e, acc);
  }
}

// Block geometry of the backward kernel for C channels in vectors of V.
struct BackwardBlocks {
  int32_t cv_per_block;  // channel vectors per block (<= 32)
  int32_t lanes;         // position lanes per block
  int32_t channel_blocks;
};

// Threads per backward block. A frame's positions are split over the lanes of ONE block (so the
// per-(frame, channel) sums need no second pass), and a level-2 node at 8 x 32 frames has only
// 256 frames x 1-2 channel blocks: with 256 threads a block that left an H200 a quarter full
// (0.78 ms, ~2.7 TB/s for node 12). 1024 threads keep the same blocks 4x as busy. Fixed per
// process (ASN_GATED_SUM_BWD_THREADS = 256, 512 or 1024; default 1024), so the lane count, and
// with it the summation order, still depends on C alone.
constexpr int kBwdMaxThreads = 1024;
int backward_threads() {
  static const int threads = [] {
    const char* v = std::getenv("ASN_GATED_SUM_BWD_THREADS");
    const std::string s = v == nullptr ? "" : v;
    return s == "256" ? 256 : s == "512" ? 512 : kBwdMaxThreads;
  }();
  return threads;
}

inline BackwardBlocks backward_blocks(int64_t C, int V, int threads) {
  const int64_t cv = C / V;
  BackwardBlocks b;
  b.cv_per_block = static_cast<int32_t>(cv < 32 ? cv : 32);
  b.lanes = threads / b.cv_per_block;
  b.channel_blocks = static_cast<int32_t>((cv + b.cv_per_block - 1) / b.cv_per_block);
  return b;
}

template <class T, int V>
__global__ void __launch_bounds__(kBwdMaxThreads)
    gated_sum_backward_kernel(const LaunchInputs<T> in, const T* __restrict__ weights,
                              const T* __restrict__ ds, int32_t Hs, int32_t Ws, int64_t C,
                              BackwardBlocks bb, bool need_dw, double* __restrict__ dw_partial) {
  __shared__ double lane_p[kBwdMaxThreads * V];
  const int tid = threadIdx.x;
  const int32_t cvl = tid % bb.cv_per_block;
  const int32_t lane = tid / bb.cv_per_block;
  const int64_t f = blockIdx.x / bb.channel_blocks;
  const int64_t cv = static_cast<int64_t>(blockIdx.x % bb.channel_blocks) * bb.cv_per_block + cvl;
  const bool active = lane < bb.lanes && cv < C / V;
  const int64_t c0 = cv * V;
  const int32_t hw = Hs * Ws;
  const T* dsf = ds + f * hw * C + c0;
  for (int j = 0; j < in.count; ++j) {
    const bool need_p = need_dw || in.dgate[j] != nullptr;  // the same for the whole block
    if (in.dx[j] == nullptr && !need_p) continue;
    const int64_t H = in.H[j], W = in.W[j];
    const T w = weights[in.weight_index[j]];
    const T* gate = in.gate[j];
    double p[V];
    for (int l = 0; l < V; ++l) p[l] = 0.0;
    Vec<T, V> a;
    if (active) {
      if (gate != nullptr) a = load_vec<T, V>(gate + f * C + c0);
      const T* frame = in.x[j] + f * H * W * C + c0;
      T* dxf = in.dx[j] != nullptr ? in.dx[j] + f * H * W * C + c0 : nullptr;
      const bool identity = in.r[j] == 1;  // x_j is S-sized: position pos itself
      for (int32_t pos = lane; pos < hw; pos += bb.lanes) {
        const Vec<T, V> d = load_vec<T, V>(dsf + static_cast<int64_t>(pos) * C);
        Vec<T, V> m;
        if (identity) {
          m = load_vec<T, V>(frame + static_cast<int64_t>(pos) * C);
          if (dxf != nullptr) {
            Vec<T, V> g;
            for (int l = 0; l < V; ++l)
              g.v[l] = gate != nullptr ? gated_sum_input_grad(w, d.v[l], a.v[l])
                                       : gated_sum_input_grad(w, d.v[l]);
            store_vec<T, V>(dxf + static_cast<int64_t>(pos) * C, g);
          }
          if (need_p)
            for (int l = 0; l < V; ++l) p[l] += gated_sum_p_term(d.v[l], m.v[l]);
          continue;
        }
        const int32_t ho = pos / Ws, wo = pos % Ws;
        int32_t arg[V];
        if (dxf != nullptr) {
          m = window_max<T, V, true>(frame, in.H[j], in.W[j], in.r[j], in.pad_h[j], in.pad_w[j], ho,
                                     wo, C, arg);
          Vec<T, V> g;
          for (int l = 0; l < V; ++l)
            g.v[l] = gate != nullptr ? gated_sum_input_grad(w, d.v[l], a.v[l])
                                     : gated_sum_input_grad(w, d.v[l]);
          // Every input position lies in exactly one window: write the whole window.
          const PoolRange rh = gated_sum_window(ho, H, in.r[j], in.pad_h[j]);
          const PoolRange rw = gated_sum_window(wo, W, in.r[j], in.pad_w[j]);
          for (int32_t h = static_cast<int32_t>(rh.begin); h < rh.end; ++h) {
            for (int32_t x = static_cast<int32_t>(rw.begin); x < rw.end; ++x) {
              const int32_t at = h * in.W[j] + x;
              Vec<T, V> out;
              for (int l = 0; l < V; ++l) out.v[l] = arg[l] == at ? g.v[l] : T(0);
              store_vec<T, V>(dxf + static_cast<int64_t>(at) * C, out);
            }
          }
        } else {
          m = window_max<T, V, false>(frame, in.H[j], in.W[j], in.r[j], in.pad_h[j], in.pad_w[j],
                                      ho, wo, C, arg);
        }
        if (need_p)
          for (int l = 0; l < V; ++l) p[l] += gated_sum_p_term(d.v[l], m.v[l]);
      }
    }
    if (!need_p) continue;
    // Lanes -> one p per channel, added in lane order.
    for (int l = 0; l < V; ++l) lane_p[tid * V + l] = p[l];
    __syncthreads();
    double q = 0.0;
    if (active && lane == 0) {
      for (int l = 0; l < V; ++l) {
        double total = 0.0;
        for (int32_t k = 0; k < bb.lanes; ++k) total += lane_p[(k * bb.cv_per_block + cvl) * V + l];
        if (in.dgate[j] != nullptr) in.dgate[j][f * C + c0 + l] = gated_sum_gate_grad(w, total);
        q += gate != nullptr ? gated_sum_weight_term(a.v[l], total) : total;
      }
    }
    if (need_dw) {
      q = cuda::block_reduce_sum(q);  // fixed tree; ends with a barrier
      if (tid == 0) dw_partial[static_cast<int64_t>(in.global[j]) * gridDim.x + blockIdx.x] = q;
    } else {
      __syncthreads();  // lane_p is rewritten by the next input
    }
  }
}

// dw[k] (one block): adds, for every input j of this launch using weight k, its block partials in
// block order. `first` starts from zero, otherwise from the running double sum of earlier launches;
// `last` writes dw in T, otherwise the running sum.
template <class T>
__global__ void gated_sum_dweights_kernel(const LaunchInputs<T> in,
                                          const double* __restrict__ dw_partial, int64_t blocks,
                                          int64_t num_weights, double* running, T* __restrict__ dw,
                                          bool first, bool last) {
  for (int64_t k = threadIdx.x; k < num_weights; k += blockDim.x) {
    double acc = first ? 0.0 : running[k];
    for (int j = 0; j < in.count; ++j) {
      if (in.weight_index[j] != k) continue;
      const double* part = dw_partial + static_cast<int64_t>(in.global[j]) * blocks;
      for (int64_t b = 0; b < blocks; ++b) acc += part[b];
    }
    if (last) {
      dw[k] = static_cast<T>(acc);
    } else {
      running[k] = acc;
    }
  }
}

bool aligned(const void* p, size_t bytes) {
  return p == nullptr || reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// The widest channel vector every pointer of the call allows.
template <class T>
int vector_width(const GatedSumGeometry& g, const GatedSumTensors<T>& in,
                 const GatedSumGrads<T>* out, const T* s_or_ds) {
  constexpr int kWide = static_cast<int>(16 / sizeof(T));
  if (g.C % kWide != 0) return 1;
  const size_t bytes = 16;
  bool ok = aligned(s_or_ds, bytes);
  for (size_t j = 0; j < g.inputs.size(); ++j) {
    ok = ok && aligned(in.x[j], bytes);
    if (!in.gate.empty()) ok = ok && aligned(in.gate[j], bytes);
    if (out != nullptr && !out->dx.empty()) ok = ok && aligned(out->dx[j], bytes);
    if (out != nullptr && !out->dgate.empty()) ok = ok && aligned(out->dgate[j], bytes);
  }
  return ok ? kWide : 1;
}

template <class T>
LaunchInputs<T> pack(const GatedSumGeometry& g, const GatedSumTensors<T>& in,
                     const GatedSumGrads<T>* out, size_t begin, size_t end) {
  LaunchInputs<T> li{};
  li.count = static_cast<int>(end - begin);
  for (size_t j = begin; j < end; ++j) {
    const size_t l = j - begin;
    const GatedSumInput& ij = g.inputs[j];
    li.x[l] = in.x[j];
    li.gate[l] = in.gate.empty() ? nullptr : in.gate[j];
    li.dx[l] = out != nullptr && !out->dx.empty() ? out->dx[j] : nullptr;
    li.dgate[l] = out != nullptr && !out->dgate.empty() ? out->dgate[j] : nullptr;
    li.H[l] = static_cast<int32_t>(ij.H);
    li.W[l] = static_cast<int32_t>(ij.W);
    li.r[l] = static_cast<int32_t>(ij.r);
    li.pad_h[l] = static_cast<int32_t>(ij.pad_h);
    li.pad_w[l] = static_cast<int32_t>(ij.pad_w);
    li.weight_index[l] = static_cast<int32_t>(ij.weight_index);
    li.global[l] = static_cast<int32_t>(j);
  }
  return li;
}

template <class T, int V>
void launch_forward(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s,
                    cudaStream_t stream) {
  const int64_t total = g.N * g.T * g.Hs * g.Ws * (g.C / V);
  const int grid = cuda::grid_1d(total);
  const size_t n = g.inputs.size();
  for (size_t begin = 0; begin < n; begin += kMax) {
    const size_t end = begin + kMax < n ? begin + kMax : n;
    const LaunchInputs<T> li = pack<T>(g, in, nullptr, begin, end);
    const bool accumulate = begin > 0;
    if (cuda::fits_int32(total)) {
      gated_sum_forward_kernel<T, V, int32_t><<<grid, cuda::kBlock, 0, stream>>>(
          li, in.weights, s, static_cast<int32_t>(g.Hs), static_cast<int32_t>(g.Ws), g.C,
          static_cast<int32_t>(total), accumulate);
    } else {
      gated_sum_forward_kernel<T, V, int64_t>
          <<<grid, cuda::kBlock, 0, stream>>>(li, in.weights, s, static_cast<int32_t>(g.Hs),
                                              static_cast<int32_t>(g.Ws), g.C, total, accumulate);
    }
    ASN_KERNEL_CHECK("gated_sum");
  }
}

template <class T, int V>
void launch_backward(const GatedSumGeometry& g, const GatedSumTensors<T>& in, const T* ds,
                     const GatedSumGrads<T>& out, int device) {
  cudaStream_t stream = asn::cuda::stream(device);
  const int threads = backward_threads();
  const BackwardBlocks bb = backward_blocks(g.C, V, threads);
  const int64_t blocks = g.N * g.T * bb.channel_blocks;
  ASN_CHECK(blocks <= 0x7fffffff,
            "gated_sum backward: {} frames x {} channel blocks exceed the grid", g.N * g.T,
            bb.channel_blocks);
  const size_t n = g.inputs.size();
  const bool need_dw = out.dweights != nullptr;
  // Double scratch from the caching allocator (ordered on the device's main stream): one dw
  // partial per (input, block), and the running dw sums between launches.
  Tensor partial, running;
  if (need_dw) {
    partial =
        Tensor::empty(Shape{static_cast<int64_t>(n) * blocks}, DType::f64, Device::cuda(device));
    running = Tensor::empty(Shape{g.num_weights}, DType::f64, Device::cuda(device));
  }
  double* partial_p = need_dw ? partial.data<double>() : nullptr;
  for (size_t begin = 0; begin < n; begin += kMax) {
    const size_t end = begin + kMax < n ? begin + kMax : n;
    const LaunchInputs<T> li = pack<T>(g, in, &out, begin, end);
    gated_sum_backward_kernel<T, V><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
        li, in.weights, ds, static_cast<int32_t>(g.Hs), static_cast<int32_t>(g.Ws), g.C, bb,
        need_dw, partial_p);
    ASN_KERNEL_CHECK("gated_sum backward");
  }
  if (!need_dw) return;
  // The dw sums in input order: one launch per group of inputs, carrying the running sums.
  for (size_t begin = 0; begin < n; begin += kMax) {
    const size_t end = begin + kMax < n ? begin + kMax : n;
    const LaunchInputs<T> li = pack<T>(g, in, &out, begin, end);
    gated_sum_dweights_kernel<T><<<1, cuda::kBlock, 0, stream>>>(
        li, partial_p, blocks, g.num_weights, running.data<double>(), out.dweights, begin == 0,
        end == n);
    ASN_KERNEL_CHECK("gated_sum backward (edge weights)");
  }
}

// Every input already at (Hs, Ws) (the reference's resize is then the identity).
bool all_identity(const GatedSumGeometry& g) {
  for (const GatedSumInput& i : g.inputs) {
    if (i.r != 1 || i.H != g.Hs || i.W != g.Ws) return false;
  }
  return true;
}

// ASN_GATED_SUM_IDENTITY_KERNEL=0 sends identity-only calls through the general kernel (kept for
// comparison: the identity kernel was written in a session without a GPU).
bool identity_kernel_enabled() {
  static const bool enabled = env_switch("ASN_GATED_SUM_IDENTITY_KERNEL", true);
  return enabled;
}

template <class T>
void launch_identity_forward(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s,
                             cudaStream_t stream) {
  constexpr int kWide = static_cast<int>(16 / sizeof(T));
  const int64_t total = g.N * g.T * g.Hs * g.Ws * g.C;
  const int64_t frame_elems = g.Hs * g.Ws * g.C;
  bool wide = total % kWide == 0 && aligned(s, 16);
  for (size_t j = 0; j < g.inputs.size(); ++j) wide = wide && aligned(in.x[j], 16);
  // Gates as vectors: the V elements of a thread then lie in one frame and one channel run.
  bool gate_vec = wide && g.C % kWide == 0;
  for (size_t j = 0; j < in.gate.size(); ++j) gate_vec = gate_vec && aligned(in.gate[j], 16);
  const size_t n = g.inputs.size();
  for (size_t begin = 0; begin < n; begin += kMax) {
    const size_t end = begin + kMax < n ? begin + kMax : n;
    const LaunchInputs<T> li = pack<T>(g, in, nullptr, begin, end);
    const bool accumulate = begin > 0;
    if (gate_vec) {
      gated_sum_identity_forward_kernel<T, kWide, true>
          <<<cuda::grid_1d(total / kWide), cuda::kBlock, 0, stream>>>(
              li, in.weights, s, g.C, frame_elems, total, accumulate);
    } else if (wide) {
      gated_sum_identity_forward_kernel<T, kWide, false>
          <<<cuda::grid_1d(total / kWide), cuda::kBlock, 0, stream>>>(
              li, in.weights, s, g.C, frame_elems, total, accumulate);
    } else {
      gated_sum_identity_forward_kernel<T, 1, false>
          <<<cuda::grid_1d(total), cuda::kBlock, 0, stream>>>(li, in.weights, s, g.C,
                                                              frame_elems, total, accumulate);
    }
    ASN_KERNEL_CHECK("gated_sum (identity inputs)");
  }
}

}  // namespace

template <class T>
void gated_sum_forward_cuda(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s,
                            int device) {
  if (g.N * g.T * g.Hs * g.Ws * g.C == 0 || g.inputs.empty()) return;
  asn::cuda::set_device(device);
  cudaStream_t stream = asn::cuda::stream(device);
  constexpr int kWide = static_cast<int>(16 / sizeof(T));
  if (all_identity(g) && identity_kernel_enabled()) {
    launch_identity_forward<T>(g, in, s, stream);
    return;
  }
  if (vector_width<T>(g, in, nullptr, s) == kWide) {
    launch_forward<T, kWide>(g, in, s, stream);
  } else {
    launch_forward<T, 1>(g, in, s, stream);
  }
}

template <class T>
void gated_sum_backward_cuda(const GatedSumGeometry& g, const GatedSumTensors<T>& in, const T* ds,
                             const GatedSumGrads<T>& out, int device) {
  if (g.inputs.empty()) return;
  asn::cuda::set_device(device);
  if (g.N * g.T * g.Hs * g.Ws * g.C == 0) return;
  constexpr int kWide = static_cast<int>(16 / sizeof(T));
  if (vector_width<T>(g, in, &out, ds) == kWide) {
    launch_backward<T, kWide>(g, in, ds, out, device);
  } else {
    launch_backward<T, 1>(g, in, ds, out, device);
  }
}

#define ASN_INSTANTIATE(T)                                                                        \
  template void gated_sum_forward_cuda<T>(const GatedSumGeometry&, const GatedSumTensors<T>&, T*, \
                                          int);                                                   \
  template void gated_sum_backward_cuda<T>(const GatedSumGeometry&, const GatedSumTensors<T>&,    \
                                           const T*, const GatedSumGrads<T>&, int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
