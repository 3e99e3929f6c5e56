// Broadcasting binary ops on contiguous tensors: out = a (op) b with op in {add, sub, mul}.
//
// Broadcast rule (kept deliberately simple): a and b have the same rank; the output shape is the
// elementwise max; every axis of each operand equals the output's or is 1. Typical uses: a gate
// (N, T, 1, 1, C) times x (N, T, H, W, C); a per-channel vector (1, 1, 1, 1, C) plus x. Either
// operand may be the broadcast one.
//
// The kernels work on a BroadcastPlan: output axes of size 1 are dropped and neighbouring axes on
// which both operands behave alike (both full or both broadcast) are merged, so the innermost loop
// runs over a contiguous run with operand strides 0 or 1.
//
// Backward: the gradient of an operand sums the per-element gradient term (binary_math.h) over that
// operand's broadcast axes, accumulated in double. Saved for backward: for add and sub nothing but
// the shapes; for mul each operand where the other needs a gradient. Determinism: forward and the
// non-reducing gradients are per-element; a reducing gradient either gives each thread disjoint
// output elements (when the outermost merged axis is kept) or uses one partial sum per chunk of a
// static partition, combined in chunk order. Either way the result depends only on the thread
// count.
//
// CUDA (broadcast_cuda.cu): the forward and the non-reducing gradients are elementwise over the
// plan (16-byte packs along the innermost merged axis where it allows). A reducing gradient splits
// the reduced index space of each target element into fixed chunks: one thread (innermost axis
// kept, reads coalesced across target elements) or one warp (innermost axis reduced, lanes along
// it) sums a chunk in double; a second kernel adds the chunks in order with a fixed warp tree. No
// atomics: the result depends only on the shapes.
#pragma once

#include <cstdint>

#include "engine/shape.h"
#include "kernels/elementwise/binary_math.h"

namespace asn::kernels {

struct BroadcastPlan {
  static constexpr int kMaxRank = Shape::kMaxRank;
  int rank = 1;                     // merged rank, >= 1
  int64_t dims[kMaxRank] = {1};     // merged output sizes
  int64_t stride_a[kMaxRank] = {};  // a's element strides per merged axis, 0 where a is broadcast
  int64_t stride_b[kMaxRank] = {};
  int64_t numel = 1;  // output elements
  int64_t numel_a = 1;
  int64_t numel_b = 1;
};

// Same rank, and every axis equal or 1 in one of the two.
bool broadcastable(const Shape& a, const Shape& b);
// The output shape (elementwise max, where a size 1 takes the other size); requires
// broadcastable(a, b).
Shape broadcast_shape(const Shape& a, const Shape& b);
// Requires broadcastable(a, b).
BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b);

// out (plan.numel elements) = a (op) b.
template <class T>
void binary_forward_cpu(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out);

// Gradient of operand a (which = 0, writes plan.numel_a elements) or b (which = 1, plan.numel_b
// elements) from the output gradient dout. a and b are only read for mul (may be null otherwise).
template <class T>
void binary_backward_cpu(BinaryOp op, int which, const BroadcastPlan& plan, const T* dout,
                         const T* a, const T* b, T* grad);

#ifdef ASN_WITH_CUDA
// The same contracts on device pointers, launched on asn::cuda::stream(device).
template <class T>
void binary_forward_cuda(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out,
                         int device);
template <class T>
void binary_backward_cuda(BinaryOp op, int which, const BroadcastPlan& plan, const T* dout,
                          const T* a, const T* b, T* grad, int device);
#endif

}  // namespace asn::kernels
