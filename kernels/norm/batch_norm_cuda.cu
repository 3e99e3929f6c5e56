// CUDA batch normalisation with optional fused ReLU (kernels/norm/batch_norm.h).
//
// Tiling shared by every pass over the M x C data: a thread owns V consecutive channels (a 16-byte
// pack, or V = 1) called a vector channel; the Cv = C / V vector channels are cut into `tiles` of W
// (W <= 256, as equal as possible), and a block of 256 threads covers R = 256 / W rows of one tile
// at a time: thread (rr, cw) = (tid / W, tid % W) takes rows r0 + rr, r0 + rr + R, ... of its
// block's row chunk. Neighbouring threads read neighbouring channels of the same or the next row:
// the loads are contiguous. Grid: x = row chunk, y = channel tile.
//
// Reductions (statistics, backward sums) write one double partial per (sum, channel, chunk), laid
// out [sum][channel][chunk]; the block first adds its R row groups in order through shared memory.
// A finalize kernel gives each channel one warp that adds the chunks with a fixed shuffle tree.
#include <algorithm>
#include <initializer_list>

#include "engine/tensor.h"
#include "kernels/elementwise/map_cuda.cuh"
#include "kernels/norm/batch_norm.h"
#include "kernels/norm/batch_norm_math.h"

namespace asn::kernels {

namespace {

using cuda::kBlock;
using cuda::Pack;

// About two resident waves of 256-thread blocks on a 132-SM Hopper.
constexpr int64_t kTargetBlocks = 2048;
// A reduction chunk gives each thread at least this many rows.
constexpr int64_t kMinRowsPerThread = 8;

struct Tiling {
  int vec = 1;    // channels per thread (V)
  int width = 1;  // W: vector channels per tile
  int rows = 1;   // R: rows per block step
  int tiles = 1;  // channel tiles (grid y)
  int64_t rows_total = 0;
  int64_t channels = 0;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

Tiling make_tiling(int64_t rows, int64_t channels, int vec) {
  Tiling t;
  t.vec = vec;
  t.rows_total = rows;
  t.channels = channels;
  const int64_t cvec = channels / vec;
  t.tiles = static_cast<int>(ceil_div(cvec, kBlock));
  t.width = static_cast<int>(ceil_div(cvec, t.tiles));
  t.rows = kBlock / t.width;
  return t;
}

// Row chunks (grid x) for a pass: enough blocks to fill the GPU; reductions also keep at least
// kMinRowsPerThread rows per thread so the partials stay few.
int64_t row_chunks(const Tiling& t, bool reduction) {
  const int64_t per_chunk = reduction ? t.rows * kMinRowsPerThread : t.rows;
  const int64_t by_rows = std::max<int64_t>(1, ceil_div(t.rows_total, per_chunk));
  return std::max<int64_t>(1, std::min(ceil_div(kTargetBlocks, t.tiles), by_rows));
}

// This thread's place in the tiling: its row group rr, the first channel c0 of its pack, and
// whether it has one (threads past R * W and past the last channel of the last tile idle).
struct Lane {
  int rr;
  int64_t c0;
  bool active;
};

template <int V>
__device__ Lane lane_of(int64_t C, int W, int R) {
  Lane l;
  const int tid = threadIdx.x;
  l.rr = tid / W;
  const int cw = tid - l.rr * W;
  l.c0 = (static_cast<int64_t>(blockIdx.y) * W + cw) * V;
  l.active = l.rr < R && l.c0 < C;
  return l;
}

// Rows [r0, r1) of this block's chunk.
__device__ void chunk_rows(int64_t M, int64_t* r0, int64_t* r1) {
  const int64_t chunk = blockIdx.x, chunks = gridDim.x;
  *r0 = M * chunk / chunks;
  *r1 = M * (chunk + 1) / chunks;
}

// Adds the K x V sums of the R row groups of each vector channel (in row-group order) and writes
// them to partial[(k * C + c0 + l) * chunks + chunk].
template <int K, int V>
__device__ void write_channel_partials(double (&acc)[K][V], const Lane& ln, int64_t C, int W, int R,
                                       double* partial) {
  __shared__ double sh[K * V * kBlock];
  const int tid = threadIdx.x;
#pragma unroll
  for (int k = 0; k < K; ++k)
#pragma unroll
    for (int l = 0; l < V; ++l) sh[(k * V + l) * kBlock + tid] = acc[k][l];
  __syncthreads();
  if (ln.rr == 0 && ln.active) {
    const int cw = tid;  // rr == 0
    const int64_t chunks = gridDim.x, chunk = blockIdx.x;
#pragma unroll
    for (int k = 0; k < K; ++k) {
#pragma unroll
      for (int l = 0; l < V; ++l) {
        double s = 0;
        for (int g = 0; g < R; ++g) s += sh[(k * V + l) * kBlock + g * W + cw];
        partial[(k * C + ln.c0 + l) * chunks + chunk] = s;
      }
    }
  }
}

// Sum over the chunks of partial[(k * C + c) * chunks + .] by one warp (fixed tree); every lane
// returns the total (butterfly).
__device__ double warp_sum_chunks(const double* partial, int k, int64_t c, int64_t C,
                                  int64_t chunks) {
  const int lane = threadIdx.x & 31;
  double s = 0;
  for (int64_t i = lane; i < chunks; i += 32) s += partial[(k * C + c) * chunks + i];
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  return s;
}

// ---- forward ------------------------------------------------------------------------------------

// Statistics pass: per channel, sums of d = x - x[0, c] and d^2.
template <class T, int V>
__global__ void stats_kernel(const T* x, int64_t M, int64_t C, int W, int R, double* partial) {
  const Lane ln = lane_of<V>(C, W, R);
  double acc[2][V] = {};
  if (ln.active) {
    const Pack<T, V> first = cuda::load_pack<V>(x + ln.c0);
    double shift[V];
#pragma unroll
    for (int l = 0; l < V; ++l) shift[l] = static_cast<double>(first.v[l]);
    int64_t r0, r1;
    chunk_rows(M, &r0, &r1);
#pragma unroll 4
    for (int64_t r = r0 + ln.rr; r < r1; r += R) {
      const Pack<T, V> v = cuda::load_pack<V>(x + r * C + ln.c0);
#pragma unroll
      for (int l = 0; l < V; ++l) {
        const double d = static_cast<double>(v.v[l]) - shift[l];
        acc[0][l] += d;
        acc[1][l] += d * d;
      }
    }
  }
  write_channel_partials<2, V>(acc, ln, C, W, R, partial);
}

// Finalize (training): one warp per channel. coef = [scale (C) | shift (C)] for the normalise pass.
template <class T>
__global__ void train_finalize_kernel(BatchNormParams p, const double* partial, int64_t chunks,
                                      const T* x, const T* gamma, const T* beta, T* save_mean,
                                      T* save_invstd, T* running_mean, T* running_var, T* coef) {
  const int64_t C = p.channels;
  const int64_t c = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  if (c >= C) return;  // whole warps leave together
  const double s1 = warp_sum_chunks(partial, 0, c, C, chunks);
  const double s2 = warp_sum_chunks(partial, 1, c, C, chunks);
  if ((threadIdx.x & 31) != 0) return;
  double mean, var;
  bn_shifted_stats(s1, s2, static_cast<double>(x[c]), p.rows, &mean, &var);
  save_mean[c] = static_cast<T>(mean);
  const T invstd = static_cast<T>(bn_invstd(var, p.eps));
  save_invstd[c] = invstd;
  if (running_mean) {
    running_mean[c] = static_cast<T>(bn_moving_update(running_mean[c], mean, p.momentum));
  }
  if (running_var) {
    running_var[c] = static_cast<T>(
        bn_moving_update(running_var[c], var * bn_unbiased_factor(p.rows), p.momentum));
  }
  coef[c] = (gamma ? gamma[c] : T(1)) * invstd;
  coef[C + c] = beta ? beta[c] : T(0);
}

// Evaluation coefficients: one thread per channel.
template <class T>
__global__ void eval_coefficients_kernel(BatchNormParams p, const T* gamma, const T* beta,
                                         const T* running_mean, const T* running_var, T* save_mean,
                                         T* save_invstd, T* coef) {
  const int64_t C = p.channels;
  ASN_GRID_STRIDE_LOOP(c, C) {
    save_mean[c] = running_mean[c];
    const T invstd = static_cast<T>(bn_invstd(static_cast<double>(running_var[c]), p.eps));
    save_invstd[c] = invstd;
    coef[c] = (gamma ? gamma[c] : T(1)) * invstd;
    coef[C + c] = beta ? beta[c] : T(0);
  }
}

// Coefficients from saved statistics (the memory-saving recomputation of y): the same expressions
// as the two finalize kernels above, so the normalise pass reproduces their y bit for bit.
template <class T>
__global__ void apply_coefficients_kernel(int64_t C, const T* gamma, const T* beta,
                                          const T* invstd, T* coef) {
  ASN_GRID_STRIDE_LOOP(c, C) {
    coef[c] = (gamma ? gamma[c] : T(1)) * invstd[c];
    coef[C + c] = beta ? beta[c] : T(0);
  }
}

// Normalise pass: y = bn_apply(x, mean, scale, shift) with the channel's coefficients in
// registers.
template <class T, int V, bool RELU>
__global__ void normalise_kernel(const T* x, const T* mean, const T* coef, T* y, int64_t M,
                                 int64_t C, int W, int R) {
  const Lane ln = lane_of<V>(C, W, R);
  if (!ln.active) return;
  T m[V], sc[V], sh[V];
#pragma unroll
  for (int l = 0; l < V; ++l) {
    m[l] = mean[ln.c0 + l];
    sc[l] = coef[ln.c0 + l];
    sh[l] = coef[C + ln.c0 + l];
  }
  int64_t r0, r1;
  chunk_rows(M, &r0, &r1);
#pragma unroll 4
  for (int64_t r = r0 + ln.rr; r < r1; r += R) {
    Pack<T, V> v = cuda::load_pack<V>(x + r * C + ln.c0);
#pragma unroll
    for (int l = 0; l < V; ++l) v.v[l] = bn_apply(v.v[l], m[l], sc[l], sh[l], RELU);
    cuda::store_pack<V>(y + r * C + ln.c0, v);
  }
}

// Channels per thread: a 16-byte pack when C is a multiple of it and every pointer that is walked
// row by row is 16-byte aligned (then every r * C + c0 offset is a multiple of the pack too).
template <class T>
int pack_for(int64_t C, std::initializer_list<const void*> ptrs) {
  constexpr int V = cuda::kPackWidth<T>;
  if (C % V != 0) return 1;
  for (const void* p : ptrs) {
    if (p && !cuda::is_aligned(p, 16)) return 1;
  }
  return V;
}

template <class T>
void launch_normalise(const BatchNormParams& p, int vec, const T* x, const T* mean, const T* coef,
                      T* y, cudaStream_t s) {
  const Tiling t = make_tiling(p.rows, p.channels, vec);
  const dim3 grid(static_cast<unsigned>(row_chunks(t, false)), static_cast<unsigned>(t.tiles));
  constexpr int V = cuda::kPackWidth<T>;
  if (vec == V) {
    if (p.relu) {
      normalise_kernel<T, V, true>
          <<<grid, kBlock, 0, s>>>(x, mean, coef, y, p.rows, p.channels, t.width, t.rows);
    } else {
      normalise_kernel<T, V, false>
          <<<grid, kBlock, 0, s>>>(x, mean, coef, y, p.rows, p.channels, t.width, t.rows);
    }
  } else {
    if (p.relu) {
      normalise_kernel<T, 1, true>
          <<<grid, kBlock, 0, s>>>(x, mean, coef, y, p.rows, p.channels, t.width, t.rows);
    } else {
      normalise_kernel<T, 1, false>
          <<<grid, kBlock, 0, s>>>(x, mean, coef, y, p.rows, p.channels, t.width, t.rows);
    }
  }
}

// ---- backward -----------------------------------------------------------------------------------

// Sums pass: per channel, sum g and sum g * (x - mean) with g = dy or the ReLU-masked dy.
template <class T, int V, bool RELU>
__global__ void backward_sums_kernel(const T* dy, const T* x, const T* y, const T* save_mean,
                                     int64_t M, int64_t C, int W, int R, double* partial) {
  const Lane ln = lane_of<V>(C, W, R);
  double acc[2][V] = {};
  if (ln.active) {
    double mean[V];
#pragma unroll
    for (int l = 0; l < V; ++l) mean[l] = static_cast<double>(save_mean[ln.c0 + l]);
    int64_t r0, r1;
    chunk_rows(M, &r0, &r1);
#pragma unroll 4
    for (int64_t r = r0 + ln.rr; r < r1; r += R) {
      const int64_t off = r * C + ln.c0;
      const Pack<T, V> vdy = cuda::load_pack<V>(dy + off);
      const Pack<T, V> vx = cuda::load_pack<V>(x + off);
      Pack<T, V> vy;
      if (RELU) vy = cuda::load_pack<V>(y + off);
#pragma unroll
      for (int l = 0; l < V; ++l) {
        const double g =
            static_cast<double>(RELU ? bn_masked_grad(vdy.v[l], vy.v[l], true) : vdy.v[l]);
        acc[0][l] += g;
        acc[1][l] += g * (static_cast<double>(vx.v[l]) - mean[l]);
      }
    }
  }
  write_channel_partials<2, V>(acc, ln, C, W, R, partial);
}

// Finalize: dgamma, dbeta and coef = [scale | mean_dy | mean_dy_xhat] (C each) for the dx pass.
// partial may be null (evaluation with only dx wanted): then only scale is needed and written.
template <class T>
__global__ void backward_finalize_kernel(BatchNormParams p, const double* partial, int64_t chunks,
                                         const T* gamma, const T* save_invstd, T* dgamma, T* dbeta,
                                         T* coef) {
  const int64_t C = p.channels;
  const int64_t c = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  if (c >= C) return;  // whole warps leave together
  double sum_dy = 0, sum_dyxc = 0;
  if (partial) {
    sum_dy = warp_sum_chunks(partial, 0, c, C, chunks);
    sum_dyxc = warp_sum_chunks(partial, 1, c, C, chunks);
  }
  if ((threadIdx.x & 31) != 0) return;
  const double sum_dy_xhat = sum_dyxc * static_cast<double>(save_invstd[c]);
  if (dbeta) dbeta[c] = static_cast<T>(sum_dy);
  if (dgamma) dgamma[c] = static_cast<T>(sum_dy_xhat);
  coef[c] = (gamma ? gamma[c] : T(1)) * save_invstd[c];
  coef[C + c] = static_cast<T>(sum_dy / static_cast<double>(p.rows));
  coef[2 * C + c] = static_cast<T>(sum_dy_xhat / static_cast<double>(p.rows));
}

// dx pass with the channel's coefficients in registers.
template <class T, int V, bool RELU, bool TRAINING>
__global__ void backward_dx_kernel(const T* dy, const T* x, const T* y, const T* save_mean,
                                   const T* save_invstd, const T* coef, T* dx, int64_t M, int64_t C,
                                   int W, int R) {
  const Lane ln = lane_of<V>(C, W, R);
  if (!ln.active) return;
  T m[V], inv[V], sc[V], mdy[V], mdyx[V];
#pragma unroll
  for (int l = 0; l < V; ++l) {
    const int64_t c = ln.c0 + l;
    m[l] = save_mean[c];
    inv[l] = save_invstd[c];
    sc[l] = coef[c];
    mdy[l] = coef[C + c];
    mdyx[l] = coef[2 * C + c];
  }
  int64_t r0, r1;
  chunk_rows(M, &r0, &r1);
#pragma unroll 4
  for (int64_t r = r0 + ln.rr; r < r1; r += R) {
    const int64_t off = r * C + ln.c0;
    const Pack<T, V> vdy = cuda::load_pack<V>(dy + off);
    Pack<T, V> vx, vy, out;
    if (TRAINING) vx = cuda::load_pack<V>(x + off);
    if (RELU) vy = cuda::load_pack<V>(y + off);
#pragma unroll
    for (int l = 0; l < V; ++l) {
      const T g = RELU ? bn_masked_grad(vdy.v[l], vy.v[l], true) : vdy.v[l];
      if (TRAINING) {
        const T xhat = (vx.v[l] - m[l]) * inv[l];
        out.v[l] = bn_train_grad_x(g, xhat, sc[l], mdy[l], mdyx[l]);
      } else {
        out.v[l] = sc[l] * g;
      }
    }
    cuda::store_pack<V>(dx + off, out);
  }
}

template <class T, int V>
void launch_backward_sums(const BatchNormParams& p, const Tiling& t, dim3 grid, const T* dy,
                          const T* x, const T* y, const T* save_mean, double* partial,
                          cudaStream_t s) {
  if (p.relu) {
    backward_sums_kernel<T, V, true>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, p.rows, p.channels, t.width, t.rows, partial);
  } else {
    backward_sums_kernel<T, V, false>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, p.rows, p.channels, t.width, t.rows, partial);
  }
}

template <class T, int V>
void launch_backward_dx(const BatchNormParams& p, bool training, const T* dy, const T* x,
                        const T* y, const T* save_mean, const T* save_invstd, const T* coef, T* dx,
                        cudaStream_t s) {
  const Tiling t = make_tiling(p.rows, p.channels, V);
  const dim3 grid(static_cast<unsigned>(row_chunks(t, false)), static_cast<unsigned>(t.tiles));
  const int64_t M = p.rows, C = p.channels;
  const int W = t.width, R = t.rows;
  if (p.relu && training) {
    backward_dx_kernel<T, V, true, true>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, save_invstd, coef, dx, M, C, W, R);
  } else if (p.relu) {
    backward_dx_kernel<T, V, true, false>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, save_invstd, coef, dx, M, C, W, R);
  } else if (training) {
    backward_dx_kernel<T, V, false, true>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, save_invstd, coef, dx, M, C, W, R);
  } else {
    backward_dx_kernel<T, V, false, false>
        <<<grid, kBlock, 0, s>>>(dy, x, y, save_mean, save_invstd, coef, dx, M, C, W, R);
  }
}

int warp_per_channel_grid(int64_t C) { return cuda::grid_1d(C * 32); }

}  // namespace

template <class T>
void batch_norm_forward_train_cuda(const BatchNormParams& p, const T* x, const T* gamma,
                                   const T* beta, T* y, T* save_mean, T* save_invstd,
                                   T* running_mean, T* running_var, int device) {
  ASN_CHECK(p.rows >= 1 && p.channels >= 1,
            "batch_norm: training needs rows >= 1 and channels >= 1, got {} x {}", p.rows,
            p.channels);
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  const int64_t C = p.channels;
  const int vec = pack_for<T>(C, {x, y});
  const Tiling t = make_tiling(p.rows, C, vec);
  const int64_t chunks = row_chunks(t, true);
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(t.tiles));
  Tensor partial = Tensor::empty(Shape{2 * C * chunks}, DType::f64, dev);
  Tensor coef = Tensor::empty(Shape{2 * C}, dtype_of<T>(), dev);
  constexpr int V = cuda::kPackWidth<T>;
  if (vec == V) {
    stats_kernel<T, V>
        <<<grid, kBlock, 0, s>>>(x, p.rows, C, t.width, t.rows, partial.data<double>());
  } else {
    stats_kernel<T, 1>
        <<<grid, kBlock, 0, s>>>(x, p.rows, C, t.width, t.rows, partial.data<double>());
  }
  train_finalize_kernel<T><<<warp_per_channel_grid(C), kBlock, 0, s>>>(
      p, partial.data<double>(), chunks, x, gamma, beta, save_mean, save_invstd, running_mean,
      running_var, coef.data<T>());
  launch_normalise<T>(p, vec, x, save_mean, coef.data<T>(), y, s);
  ASN_KERNEL_CHECK(p.relu ? "batch_norm_relu" : "batch_norm");
}

template <class T>
void batch_norm_forward_eval_cuda(const BatchNormParams& p, const T* x, const T* gamma,
                                  const T* beta, const T* running_mean, const T* running_var, T* y,
                                  T* save_mean, T* save_invstd, int device) {
  if (p.channels == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int64_t C = p.channels;
  Tensor coef = Tensor::empty(Shape{2 * C}, dtype_of<T>(), Device::cuda(device));
  eval_coefficients_kernel<T><<<cuda::grid_1d(C), kBlock, 0, s>>>(
      p, gamma, beta, running_mean, running_var, save_mean, save_invstd, coef.data<T>());
  if (p.rows > 0) {
    launch_normalise<T>(p, pack_for<T>(C, {x, y}), x, save_mean, coef.data<T>(), y, s);
  }
  ASN_KERNEL_CHECK(p.relu ? "batch_norm_relu" : "batch_norm");
}

template <class T>
void batch_norm_apply_cuda(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                           const T* mean, const T* invstd, T* y, int device) {
  if (p.channels == 0 || p.rows == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const int64_t C = p.channels;
  Tensor coef = Tensor::empty(Shape{2 * C}, dtype_of<T>(), Device::cuda(device));
  apply_coefficients_kernel<T>
      <<<cuda::grid_1d(C), kBlock, 0, s>>>(C, gamma, beta, invstd, coef.data<T>());
  launch_normalise<T>(p, pack_for<T>(C, {x, y}), x, mean, coef.data<T>(), y, s);
  ASN_KERNEL_CHECK(p.relu ? "batch_norm_relu (recompute)" : "batch_norm (recompute)");
}

template <class T>
void batch_norm_backward_cuda(const BatchNormParams& p, bool training, const T* dy, const T* x,
                              const T* y, const T* gamma, const T* save_mean, const T* save_invstd,
                              T* dx, T* dgamma, T* dbeta, int device) {
  if (p.channels == 0) return;
  asn::cuda::set_device(device);
  cudaStream_t s = asn::cuda::stream(device);
  const Device dev = Device::cuda(device);
  const int64_t C = p.channels;
  constexpr int V = cuda::kPackWidth<T>;
  const int vec = pack_for<T>(C, {dy, x, p.relu ? y : nullptr, dx});
  // Per-channel sums, unless nothing needs them (evaluation with only dx, or an empty batch).
  Tensor partial;
  int64_t chunks = 0;
  if ((dgamma || dbeta || (dx && training)) && p.rows > 0) {
    const Tiling t = make_tiling(p.rows, C, vec);
    chunks = row_chunks(t, true);
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(t.tiles));
    partial = Tensor::empty(Shape{2 * C * chunks}, DType::f64, dev);
    if (vec == V) {
      launch_backward_sums<T, V>(p, t, grid, dy, x, y, save_mean, partial.data<double>(), s);
    } else {
      launch_backward_sums<T, 1>(p, t, grid, dy, x, y, save_mean, partial.data<double>(), s);
    }
  }
  Tensor coef = Tensor::empty(Shape{3 * C}, dtype_of<T>(), dev);
  backward_finalize_kernel<T><<<warp_per_channel_grid(C), kBlock, 0, s>>>(
      p, partial.defined() ? partial.data<double>() : nullptr, chunks, gamma, save_invstd, dgamma,
      dbeta, coef.data<T>());
  if (dx && p.rows > 0) {
    if (vec == V) {
      launch_backward_dx<T, V>(p, training, dy, x, y, save_mean, save_invstd, coef.data<T>(), dx,
                               s);
    } else {
      launch_backward_dx<T, 1>(p, training, dy, x, y, save_mean, save_invstd, coef.data<T>(), dx,
                               s);
    }
  }
  ASN_KERNEL_CHECK(p.relu ? "batch_norm_relu" : "batch_norm");
}

#define ASN_INSTANTIATE(T)                                                                      \
  template void batch_norm_forward_train_cuda<T>(const BatchNormParams&, const T*, const T*,    \
                                                 const T*, T*, T*, T*, T*, T*, int);            \
  template void batch_norm_forward_eval_cuda<T>(const BatchNormParams&, const T*, const T*,     \
                                                const T*, const T*, const T*, T*, T*, T*, int); \
  template void batch_norm_apply_cuda<T>(const BatchNormParams&, const T*, const T*, const T*,   \
                                         const T*, const T*, T*, int);                          \
  template void batch_norm_backward_cuda<T>(const BatchNormParams&, bool, const T*, const T*,   \
                                            const T*, const T*, const T*, const T*, T*, T*, T*, \
                                            int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
