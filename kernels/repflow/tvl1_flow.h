// TV-L1 core of the representation-flow layer (assemblenet-spec §5.1 steps 3-5, §5.2): frame pairs
// per clip, the unrolled TV-L1 iterations, and the flow output with the last time step duplicated.
//
// Layout: image (N, T, H, W, C) -> flow (N, T, H, W, 2C). Every channel is processed on its own
// (depthwise) with the same scalars and filters; output channel c is u1 (x / width displacement) of
// input channel c and channel C + c is u2 (y / height) of channel c, the reference's concat order.
// Pair p = n (T-1) + t uses I0 = image[n, t], I1 = image[n, t+1]; flow[n, t] is the flow of pair
// (n, t) for t < T-1 and flow[n, T-1] = flow[n, T-2]. T == 1 has no pair: the flow is all zeros
// (and every gradient is zero). Internal state arrays are (N, T-1, H, W, C) = M elements each.
//
// Per iteration (all elementwise per pixel per channel; the arithmetic lives in tvl1_math.h):
//   rho = rho_c + gx u1 + gy u2 + 1e-12, with gx, gy central gradients of I1, rho_c = I1 - I0
//   three-way hard mask -> step d;  u = u + d + θ div(p)            (pass A)
//   p = (p + taut ∇u) / (1 + taut |∇u|_eps)                          (pass B)
//
// Saved for backward (checkpointing): the state (u1, u2, p11, p12, p21, p22) after iterations
// K, 2K, ..., i.e. tvl1_num_checkpoints(L, K) = ceil(L / K) - 1 slots of 6 M elements, laid out
// (slot, 6, N, T-1, H, W, C); the state before iteration 0 is zero and never stored. The backward
// pass walks the segments from the last to the first, recomputes the min(K, L) states inside a
// segment from its checkpoint, and runs the exact reverse of each iteration (hard masks: gradient
// only through the chosen branch). Memory, in elements of T, with M = N (T-1) H W C and, on the
// CPU, a = (H + 2)(W + 2) (one padded plane; the CPU works plane by plane, one plane per thread):
//   kept between forward and backward : (ceil(L/K) - 1) * 6 M             (plus the image itself)
//   forward workspace                 : CPU  9 a per thread (state 6 a + gx, gy, rho_c 3 a;
//                                            per plane when there are fewer planes than threads)
//                                       CUDA 3 M (gx, gy, rho_c); + 12 M on the tiled fallback
//                                       (two state buffers for ping-pong)
//   backward workspace                : CPU  (min(K, L) + 1) * 6 a + 18 a per thread (segment
//                                            states; u_bar twice, p_bar, a_bar / b_bar,
//                                            gx, gy, rho_c and their gradients) + 2 M (the
//                                            image-term gradients per pair)
//                                       CUDA (min(K, L) + 1) * 6 M segment states + 12 M (two
//                                            adjoint buffers) + 6 M (gx, gy, rho_c and their
//                                            gradients)
// K defaults to ceil(sqrt(L)) (L = 40: K = 7, 5 checkpoints, 30 M kept, plus 48 M during a CUDA
// backward, instead of 240 M to keep every state).
//
// Determinism: no atomics. Scalar parameter gradients are accumulated in double in a fixed order:
// on the CPU per plane (per-row sums in SIMD lanes of T, then lane by lane in double) and then over
// planes in plane order, so results do not depend on the thread count; on CUDA per thread block,
// summed in block order, reproducible run to run. The forward and backward results do not depend
// on K either (the same per-pixel code runs in the same order).
#pragma once

#include <cstdint>

#include "kernels/repflow/tvl1_math.h"

namespace asn::kernels {

// The layer's scalar variables and filter taps (GR-rf names; defaults are the reference's inits).
// Filter roles follow the reference code: f_grad_x / f_grad_y are the divergence filters,
// f_grad_x2 / f_grad_y2 the forward-difference filters. Taps are cross-correlation taps.
struct TvL1Params {
  double theta = 0.3;
  double lambda = 0.15;
  double tau = 0.25;
  double img_grad_x[3] = {-0.5, 0.0, 0.5};  // along W
  double img_grad_y[3] = {-0.5, 0.0, 0.5};  // along H
  double f_grad_x[2] = {-1.0, 1.0};         // divergence, along W
  double f_grad_y[2] = {-1.0, 1.0};         // divergence, along H
  double f_grad_x2[2] = {-1.0, 1.0};        // forward difference, along W
  double f_grad_y2[2] = {-1.0, 1.0};        // forward difference, along H
};

// Gradients of the scalars and taps above (same layout, accumulated in double).
struct TvL1ParamGrads {
  double theta = 0, lambda = 0, tau = 0;
  double img_grad_x[3] = {0, 0, 0};
  double img_grad_y[3] = {0, 0, 0};
  double f_grad_x[2] = {0, 0};
  double f_grad_y[2] = {0, 0};
  double f_grad_x2[2] = {0, 0};
  double f_grad_y2[2] = {0, 0};
};

struct TvL1Dims {
  int64_t n = 1, t = 1, h = 1, w = 1, c = 1;  // image (N, T, H, W, C)
  int iterations = 40;                        // L
  int checkpoint_every = 0;                   // K; 0 picks ceil(sqrt(L))

  int64_t pairs() const { return t > 1 ? n * (t - 1) : 0; }
  int64_t plane() const { return h * w * c; }              // one frame, all channels
  int64_t state_size() const { return pairs() * plane(); }  // M
  int interval() const;                                     // K actually used
  int64_t num_checkpoints() const;                          // ceil(L / K) - 1 (0 when T == 1)
  int64_t checkpoint_elements() const { return num_checkpoints() * 6 * state_size(); }
};

// θ, lt, taut and the taps in precision T, derived exactly as the reference does.
template <class T>
tvl1::Coeffs<T> tvl1_coeffs(const TvL1Params& p);

// image (N, T, H, W, C) -> flow (N, T, H, W, 2C). `checkpoints` (checkpoint_elements() values) may be
// null when no backward pass will follow.
template <class T>
void tvl1_flow_forward_cpu(const T* image, const TvL1Dims& d, const TvL1Params& p, T* flow,
                           T* checkpoints);

// grad_flow (N, T, H, W, 2C) -> grad_image (N, T, H, W, C) (skipped when null) and the parameter
// gradients (skipped when null). `checkpoints` is what the forward pass wrote.
template <class T>
void tvl1_flow_backward_cpu(const T* image, const T* checkpoints, const T* grad_flow,
                            const TvL1Dims& d, const TvL1Params& p, T* grad_image,
                            TvL1ParamGrads* grad_params);

// Maps the accumulated slot sums (tvl1::Slot) to the gradients of theta, lambda, tau and the taps:
// θ = |theta| + 1e-12, lt = lambda θ, taut = tau / θ (the derivative of |theta| at 0 is taken as 0).
TvL1ParamGrads tvl1_param_grads_from_slots(const double* slots, const TvL1Params& p);

#ifdef ASN_WITH_CUDA
namespace cuda {
// Same contracts on device pointers of CUDA device `device` (the stream is asn::cuda::stream(device)).
template <class T>
void tvl1_flow_forward(const T* image, const TvL1Dims& d, const TvL1Params& p, T* flow,
                       T* checkpoints, int device);
template <class T>
void tvl1_flow_backward(const T* image, const T* checkpoints, const T* grad_flow,
                        const TvL1Dims& d, const TvL1Params& p, T* grad_image,
                        TvL1ParamGrads* grad_params, int device);
}  // namespace cuda
#endif

}  // namespace asn::kernels
