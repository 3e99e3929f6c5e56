// Differentiable gated_sum (kernels/fusion/gated_sum.h): the fused sum of one channel group of a
// fusion node's inputs, resized to (Hs, Ws), each scaled by its edge weight and optionally gated
// per frame and channel (attention):
//
//   S (N, T, Hs, Ws, C) = sum_j (w[idx_j] * resize_j(x_j)) * a_j[:, :, None, None, :]
//
//   xs[j]    (N, T, H_j, W_j, C)  resize_j = identity when (H_j, W_j) == (Hs, Ws), else the
//                                 reference's max pool r x r / r, SAME, r = (H_j + 1) // Hs
//   weights  (m,)                 edge weights (e.g. sigmoid of the node's edge logits);
//                                 input j uses weights[weight_index[j]] (no list: weights[j],
//                                 and then m must equal the number of inputs)
//   gates    empty (no attention), or one per input: (N, T, C), or an undefined Variable for an
//            ungated input
//
// Equal to ag::add_n over ag::mul(ag::scale_by(ag::max_pool3d(x_j, ...), w_j), gate_j) (bitwise
// on the CPU) without the intermediate tensors. Gradients flow to every x_j (to the argmax of its
// window; ties go to the first element in scan order), to the weights and to every gate.
// Saved for backward: the inputs (handles), a copy of the weights (m values), the gates.
// All tensors share dtype (f32 or f64) and device (CPU or CUDA).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"

namespace asn::ag {

Variable gated_sum(const std::vector<Variable>& xs, const Variable& weights,
                   const std::vector<int64_t>& weight_index, const std::vector<Variable>& gates,
                   int64_t Hs, int64_t Ws);

// Input j uses weights[j].
Variable gated_sum(const std::vector<Variable>& xs, const Variable& weights,
                   const std::vector<Variable>& gates, int64_t Hs, int64_t Ws);

}  // namespace asn::ag
