// gated_sum: the fused combination of one channel group of a node's inputs (assemblenet-spec §2.1,
// §3.3), in one pass instead of pool -> scale -> gate multiply -> add_n.
//
//   S[n, t, h, w, c] = sum over j (in input order) of  (w_j * m_j[n, t, h, w, c]) * a_j[n, t, c]
//
//   x_j  (N, T, H_j, W_j, C)  the group's inputs (same N, T, C; any spatial size >= (Hs, Ws))
//   m_j  (N, T, Hs, Ws, C)    resize_j(x_j): identity when (H_j, W_j) == (Hs, Ws), else the
//                             reference's max pool: r = (H_j + 1) / Hs (from H only, used on both
//                             axes), window r x r, stride r, TF SAME padding; the result must be
//                             (Hs, Ws). Padding never wins; ties go to the FIRST maximal element in
//                             scan order (h, then w); a NaN wins over numbers (kernels/pool rule).
//   w    (num_weights,)       edge weights; input j uses w[weight_index[j]]
//   a_j  (N, T, C)            optional per-frame, per-channel gate (attention); absent = 1
//   S    (N, T, Hs, Ws, C)
//
// The products and the sum are evaluated exactly as the composition of the separate ops
// (ag::max_pool3d, ag::scale_by, ag::mul, ag::add_n) evaluates them: term_j = (w_j * m_j) * a_j,
// S = term_0, then S += term_1, ... in input order; on the CPU the result is bitwise that of the
// composition (the terms pass through memory before they are added, so no FMA is formed; the
// CUDA forward lets nvcc contract and agrees to rounding).
//
// Memory traffic (what the CUDA kernels aim to stream at HBM bandwidth): forward reads every x_j
// once (windows never overlap) plus the (N, T, C) gates and writes S once, instead of the composed
// ops' pooled, scaled and gated intermediates (3 writes and 3 reads of an S-sized tensor per input
// plus the add_n pass). Backward reads x_j, dS and the gates once and writes dx_j and da_j once.
//
// Backward (dS given):
//   dx_j[n, t, i, c]  = w_j * (dS[n, t, o, c] * a_j[n, t, c]) when i is the argmax of the window of
//                       output o (every input position lies in exactly one window, because
//                       stride == window and SAME padding tiles the input), else 0
//   p_j[n, t, c]      = sum over (h, w) of dS * m_j                        (double accumulation)
//   da_j[n, t, c]     = w_j * p_j[n, t, c]
//   dw[k]             = sum over j with weight_index[j] == k of
//                         sum over (n, t, c) of a_j[n, t, c] * p_j[n, t, c]   (a_j = 1 when absent)
// Saved for backward: nothing beyond the inputs themselves. The pooled m_j and the argmax are
// RECOMPUTED from x_j in backward (not stored as int32): backward has to read x_j anyway for m_j
// (dw and da need it), so a stored argmax and m_j would only add a write in forward and a read in
// backward of 2 output-sized tensors per input, and keep them alive between the passes.
//
// Determinism: no atomics. CPU forward is one work item per output position (a row of C channels);
// CPU backward is one work item per frame (n, t): it writes dx_j for the whole frame, da_j of the
// frame, and one double partial of dw per (j, frame), summed afterwards in (j, frame) order, so the
// result does not even depend on the thread count. The CUDA backward splits each frame's positions
// over a fixed number of lanes fixed by C alone (gated_sum_cuda.cu), reduces the lanes in shared
// memory in lane order, writes one double partial of dw per (j, block), and sums those in block
// order in a last single-block kernel: deterministic, independent of the GPU model.
//
// CUDA design (aimed at HBM bandwidth): one thread per output element and channel vector (4
// floats / 2 doubles when C and every pointer allow, else 1), channel fastest so a warp reads a
// contiguous run of a window row; each input element is read once in forward (windows do not
// overlap) and the output written once. Up to kGatedSumMaxInputsPerLaunch (8) inputs go to one
// launch (their pointers and geometry as a by-value kernel argument); more inputs run as further
// launches that add to S in the same order, so the result is the same. The backward's block
// layout (32 channel vectors x 32 position lanes for C >= 128 in f32) keeps a warp on one position
// row, so dS, x_j and dx_j are also read and written in contiguous runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace asn::kernels {

// How input j reaches (Hs, Ws).
struct GatedSumInput {
  int64_t H = 0, W = 0;      // the input's spatial size
  int64_t r = 1;             // window = stride on H and W (1: identity)
  int64_t pad_h = 0;         // TF SAME padding before, on H (the rest goes after)
  int64_t pad_w = 0;         // and on W
  int64_t weight_index = 0;  // element of the weight vector that scales this input
};

struct GatedSumGeometry {
  int64_t N = 0, T = 0, Hs = 0, Ws = 0, C = 0;  // output (N, T, Hs, Ws, C)
  int64_t num_weights = 0;                      // length of the weight vector
  std::vector<GatedSumInput> inputs;            // in summation order
};

// The reference's resize of an (H, W) input to (Hs, Ws): identity when equal, else
// r = (H + 1) / Hs with TF SAME padding on both axes. Not validated (see make_gated_sum_geometry).
GatedSumInput gated_sum_resize(int64_t H, int64_t W, int64_t Hs, int64_t Ws);

// Validates the inputs' shapes (rank 5, same N, T, C, resize giving (Hs, Ws), positions per frame
// fitting int32) and the weight indices (in [0, num_weights)); throws naming `op` and describing
// every offending tensor. `weight_index` empty means input j uses weight j. Only the shapes of
// `xs` are read (dtype and device are the caller's to check).
GatedSumGeometry make_gated_sum_geometry(const char* op, const std::vector<Tensor>& xs, int64_t Hs,
                                         int64_t Ws, int64_t num_weights,
                                         const std::vector<int64_t>& weight_index);

// (N, T, Hs, Ws, C).
inline Shape gated_sum_output_shape(const GatedSumGeometry& g) {
  return Shape{g.N, g.T, g.Hs, g.Ws, g.C};
}

// Raw pointers of one call (all on the same device; one entry per input).
template <class T>
struct GatedSumTensors {
  std::vector<const T*> x;     // x_j (N, T, H_j, W_j, C)
  std::vector<const T*> gate;  // a_j (N, T, C), nullptr: ungated; empty vector: none gated
  const T* weights = nullptr;  // (num_weights,)
};

// Gradient outputs; a nullptr is not computed. Each one requested is fully written.
template <class T>
struct GatedSumGrads {
  std::vector<T*> dx;     // dx_j (N, T, H_j, W_j, C); empty vector: none
  std::vector<T*> dgate;  // da_j (N, T, C), only where gate j exists; empty vector: none
  T* dweights = nullptr;  // (num_weights,); weights no input uses get 0
};

// s: (N, T, Hs, Ws, C), fully written.
template <class T>
void gated_sum_forward_cpu(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s);

// ds: (N, T, Hs, Ws, C).
template <class T>
void gated_sum_backward_cpu(const GatedSumGeometry& g, const GatedSumTensors<T>& in, const T* ds,
                            const GatedSumGrads<T>& out);

#ifdef ASN_WITH_CUDA
// Inputs per kernel launch (more run as further launches, same order and result).
constexpr int kGatedSumMaxInputsPerLaunch = 8;

// The same on CUDA device `device` (raw device pointers, launched on asn::cuda::stream(device)).
// Forward: equal to the CPU up to contraction of (w * m) * a + S into FMAs by nvcc. Backward: dx_j
// likewise; da_j and dw are double sums in a fixed order different from the CPU's.
template <class T>
void gated_sum_forward_cuda(const GatedSumGeometry& g, const GatedSumTensors<T>& in, T* s,
                            int device);
template <class T>
void gated_sum_backward_cuda(const GatedSumGeometry& g, const GatedSumTensors<T>& in, const T* ds,
                             const GatedSumGrads<T>& out, int device);
#endif

}  // namespace asn::kernels
