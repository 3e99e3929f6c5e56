// CUDA broadcasting add / sub / mul and their gradients (kernels/elementwise/broadcast.h).
//
// Forward and non-reducing gradients: one thread per pack of V output elements inside one innermost
// merged run; the offsets of a and b come from the plan (one division per merged axis per pack, in
// 32-bit arithmetic when the output has fewer than 2^31 elements).
//
// Reducing gradients (the target operand is broadcast along some merged axes): the merged axes
// split into kept ones (the target's own, their product = target elements t) and reduced ones
// (product R). Work item (t, chunk) sums the terms of the reduced indices [R * chunk / chunks, R *
// (chunk + 1) / chunks) of target element t, in double, walking runs of the innermost reduced axis.
// A group of L lanes shares one item: L = 1 when the innermost output axis is kept (neighbouring
// threads take neighbouring t: coalesced), L = 32 when it is reduced (the lanes walk the contiguous
// run and a fixed shuffle tree adds them). With more than one chunk the items write partial sums
// (layout [t][chunk]) and a second kernel adds each t's chunks with a fixed warp tree. The chunk
// count depends only on the shapes, so the result is reproducible bit for bit.
#include <algorithm>

#include "engine/tensor.h"
#include "kernels/elementwise/binary_math.h"
#include "kernels/elementwise/broadcast.h"
#include "kernels/elementwise/map_cuda.cuh"

namespace asn::kernels {

namespace {

using cuda::kBlock;
using cuda::Pack;

// ---- elementwise over the plan ------------------------------------------------------------------

// out = f(a-slot, b-slot). The forward passes (a, b); a non-reducing gradient passes the output
// gradient in the slot of its (full) target operand and the other operand in the other slot.
template <BinaryOp OP>
struct ForwardTerm {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return binary_value<OP>(a, b);
  }
};
// Non-reducing mul gradients: d/da = g * b (g in the a slot), d/db = g * a (g in the b slot).
struct MulGradA {
  template <class T>
  __device__ T operator()(T g, T b) const {
    return binary_grad_a<BinaryOp::mul>(g, b);
  }
};
struct MulGradB {
  template <class T>
  __device__ T operator()(T a, T g) const {
    return binary_grad_b<BinaryOp::mul>(g, a);
  }
};
// Non-reducing add / sub gradients: +-g.
template <BinaryOp OP, int WHICH>
struct AddSubGrad {
  template <class T>
  __device__ T operator()(T g) const {
    return WHICH == 0 ? binary_grad_a<OP>(g, T(0)) : binary_grad_b<OP>(g, T(0));
  }
};

// One thread per pack of V elements of one innermost run. FLAT: the plan has one merged axis (no
// row offsets). I: the index type (uint32_t when numel < 2^31, else int64_t).
template <class T, int V, class I, bool FLAT, class F>
__global__ void plan_map_kernel(BroadcastPlan p, const T* a, const T* b, T* out, F f) {
  const int last = p.rank - 1;
  const I inner = static_cast<I>(p.dims[last]);
  const I sa = static_cast<I>(p.stride_a[last]), sb = static_cast<I>(p.stride_b[last]);
  const I packs = static_cast<I>(p.numel) / V;
  const I step = static_cast<I>(gridDim.x) * blockDim.x;
  for (I u = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; u < packs; u += step) {
    const I e = u * V;
    I ia, ib;
    if (FLAT) {
      ia = e * sa;
      ib = e * sb;
    } else {
      I row = e / inner;
      const I k = e - row * inner;
      ia = k * sa;
      ib = k * sb;
      for (int j = last - 1; j >= 0; --j) {
        const I d = static_cast<I>(p.dims[j]);
        const I idx = row % d;
        row /= d;
        ia += idx * static_cast<I>(p.stride_a[j]);
        ib += idx * static_cast<I>(p.stride_b[j]);
      }
    }
    Pack<T, V> va, vb, vo;
    if (sa != 0) {
      va = cuda::load_pack<V>(a + ia);
    } else {
#pragma unroll
      for (int l = 0; l < V; ++l) va.v[l] = a[ia];
    }
    if (sb != 0) {
      vb = cuda::load_pack<V>(b + ib);
    } else {
#pragma unroll
      for (int l = 0; l < V; ++l) vb.v[l] = b[ib];
    }
#pragma unroll
    for (int l = 0; l < V; ++l) vo.v[l] = f(va.v[l], vb.v[l]);
    cuda::store_pack<V>(out + e, vo);
  }
}

template <class T, int V, class F>
void launch_plan_map_v(const BroadcastPlan& p, const T* a, const T* b, T* out, F f, int device) {
  const int grid = cuda::grid_1d(p.numel / V);
  cudaStream_t s = asn::cuda::stream(device);
  const bool flat = p.rank == 1;
  if (p.numel < (int64_t{1} << 31)) {
    if (flat) {
      plan_map_kernel<T, V, uint32_t, true><<<grid, kBlock, 0, s>>>(p, a, b, out, f);
    } else {
      plan_map_kernel<T, V, uint32_t, false><<<grid, kBlock, 0, s>>>(p, a, b, out, f);
    }
  } else {
    if (flat) {
      plan_map_kernel<T, V, int64_t, true><<<grid, kBlock, 0, s>>>(p, a, b, out, f);
    } else {
      plan_map_kernel<T, V, int64_t, false><<<grid, kBlock, 0, s>>>(p, a, b, out, f);
    }
  }
}

// out (p.numel elements) = f(a-slot, b-slot) over the plan. Packs of 4 floats / 2 doubles when the
// innermost run length is a multiple of the pack and every pointer read along it is 16-byte
// aligned (the offsets of such an operand are then multiples of the pack: its strides on the
// outer merged axes are multiples of the innermost size).
template <class T, class F>
void plan_map(const char* op, const BroadcastPlan& p, const T* a, const T* b, T* out, F f,
              int device) {
  if (p.numel == 0) return;
  asn::cuda::set_device(device);
  constexpr int V = cuda::kPackWidth<T>;
  const int last = p.rank - 1;
  const bool packed = p.dims[last] % V == 0 && cuda::is_aligned(out, 16) &&
                      (p.stride_a[last] == 0 || cuda::is_aligned(a, 16)) &&
                      (p.stride_b[last] == 0 || cuda::is_aligned(b, 16));
  if (packed) {
    launch_plan_map_v<T, V>(p, a, b, out, f, device);
  } else {
    launch_plan_map_v<T, 1>(p, a, b, out, f, device);
  }
  ASN_KERNEL_CHECK(op);
}

// ---- reducing gradients -------------------------------------------------------------------------

// The merged axes of a plan split into kept axes (where the target operand is full) and reduced
// axes (where it is broadcast), each outer to inner with its size, its output stride and the other
// operand's stride.
struct ReduceLayout {
  static constexpr int kMaxRank = BroadcastPlan::kMaxRank;
  int nk = 0, nr = 0;
  int64_t kdim[kMaxRank] = {}, kout[kMaxRank] = {}, koth[kMaxRank] = {};
  int64_t rdim[kMaxRank] = {}, rout[kMaxRank] = {}, roth[kMaxRank] = {};
  int64_t target = 1;  // product of kdim: the target's elements (its row-major index decomposes
                       // over the kept axes)
  int64_t reduce = 1;  // product of rdim
};

ReduceLayout make_reduce_layout(const BroadcastPlan& p, int which) {
  ReduceLayout g;
  const int64_t* st = which == 0 ? p.stride_a : p.stride_b;
  const int64_t* so = which == 0 ? p.stride_b : p.stride_a;
  int64_t out_stride[BroadcastPlan::kMaxRank];
  int64_t s = 1;
  for (int j = p.rank - 1; j >= 0; --j) {
    out_stride[j] = s;
    s *= p.dims[j];
  }
  for (int j = 0; j < p.rank; ++j) {
    if (st[j] != 0) {
      g.kdim[g.nk] = p.dims[j];
      g.kout[g.nk] = out_stride[j];
      g.koth[g.nk] = so[j];
      g.target *= p.dims[j];
      ++g.nk;
    } else {
      g.rdim[g.nr] = p.dims[j];
      g.rout[g.nr] = out_stride[j];
      g.roth[g.nr] = so[j];
      g.reduce *= p.dims[j];
      ++g.nr;
    }
  }
  return g;
}

// The gradient term of operand WHICH at one element from the output gradient g and the other
// operand's value (binary_math.h).
template <BinaryOp OP, int WHICH>
struct GradTerm {
  template <class T>
  __device__ T operator()(T g, T other) const {
    if constexpr (WHICH == 0) {
      return binary_grad_a<OP>(g, other);
    } else {
      return binary_grad_b<OP>(g, other);
    }
  }
};

// Work item = (t, chunk), item = chunk * target + t, shared by L consecutive lanes (L = 1 or 32).
// Writes grad[t] directly when chunks == 1, else partial[t * chunks + chunk].
template <class T, int L, bool USES_OTHER, class F>
__global__ void reduce_grad_kernel(ReduceLayout g, const T* dout, const T* other, int64_t chunks,
                                   double* partial, T* grad, F term) {
  const int lane = L == 1 ? 0 : static_cast<int>(threadIdx.x & (L - 1));
  const int64_t items = g.target * chunks;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x / L;
  const int last = g.nr - 1;
  const int64_t rin = g.rdim[last], rin_out = g.rout[last], rin_oth = g.roth[last];
  for (int64_t item = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / L;
       item < items; item += step) {
    const int64_t chunk = item / g.target;
    const int64_t t = item - chunk * g.target;
    // Offsets of target element t along the kept axes.
    int64_t rem = t, base_out = 0, base_oth = 0;
    for (int j = g.nk - 1; j >= 0; --j) {
      const int64_t idx = rem % g.kdim[j];
      rem /= g.kdim[j];
      base_out += idx * g.kout[j];
      base_oth += idx * g.koth[j];
    }
    const int64_t r1 = g.reduce * (chunk + 1) / chunks;
    double acc = 0;
    for (int64_t r = g.reduce * chunk / chunks; r < r1;) {
      int64_t ro = r / rin;
      const int64_t ri = r - ro * rin;
      int64_t o = base_out + ri * rin_out, oth = base_oth + ri * rin_oth;
      for (int j = last - 1; j >= 0; --j) {
        const int64_t idx = ro % g.rdim[j];
        ro /= g.rdim[j];
        o += idx * g.rout[j];
        oth += idx * g.roth[j];
      }
      const int64_t len = rin - ri < r1 - r ? rin - ri : r1 - r;
      for (int64_t k = lane; k < len; k += L) {
        const T other_v = USES_OTHER ? other[oth + k * rin_oth] : T(0);
        acc += static_cast<double>(term(dout[o + k * rin_out], other_v));
      }
      r += len;
    }
    if (L > 1) {
      for (int off = L / 2; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
    }
    if (lane == 0) {
      if (chunks == 1) {
        grad[t] = static_cast<T>(acc);
      } else {
        partial[t * chunks + chunk] = acc;
      }
    }
  }
}

// grad[t] = sum over chunks of partial[t * chunks + chunk]: one warp per t, lanes strided over the
// chunks, a fixed shuffle tree.
template <class T>
__global__ void sum_chunks_kernel(const double* partial, int64_t target, int64_t chunks, T* grad) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t t = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32; t < target;
       t += warps) {
    double s = 0;
    for (int64_t c = lane; c < chunks; c += 32) s += partial[t * chunks + c];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) grad[t] = static_cast<T>(s);
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Gradient of operand WHICH with a reduction over its broadcast axes.
template <BinaryOp OP, int WHICH, class T>
void reduce_grad(const BroadcastPlan& p, const T* dout, const T* other, T* grad, int device) {
  constexpr bool kUsesOther = OP == BinaryOp::mul;
  const ReduceLayout g = make_reduce_layout(p, WHICH);
  const bool inner_kept = (WHICH == 0 ? p.stride_a : p.stride_b)[p.rank - 1] != 0;
  // Enough items to fill the GPU (about 2^18 threads), each with a useful share of the reduction.
  const int lanes = inner_kept ? 1 : 32;
  const int64_t want_items = inner_kept ? (int64_t{1} << 18) : (int64_t{1} << 13);
  const int64_t min_per_chunk = inner_kept ? 64 : 512;
  const int64_t chunks =
      std::max<int64_t>(1, std::min(ceil_div(want_items, g.target), g.reduce / min_per_chunk));
  cudaStream_t s = asn::cuda::stream(device);
  Tensor partial;
  if (chunks > 1)
    partial = Tensor::empty(Shape{g.target * chunks}, DType::f64, Device::cuda(device));
  double* pp = chunks > 1 ? partial.data<double>() : nullptr;
  const int grid = cuda::grid_1d(g.target * chunks * lanes);
  const GradTerm<OP, WHICH> term;
  if (inner_kept) {
    reduce_grad_kernel<T, 1, kUsesOther>
        <<<grid, kBlock, 0, s>>>(g, dout, other, chunks, pp, grad, term);
  } else {
    reduce_grad_kernel<T, 32, kUsesOther>
        <<<grid, kBlock, 0, s>>>(g, dout, other, chunks, pp, grad, term);
  }
  if (chunks > 1) {
    sum_chunks_kernel<T>
        <<<cuda::grid_1d(g.target * 32), kBlock, 0, s>>>(pp, g.target, chunks, grad);
  }
}

template <BinaryOp OP, int WHICH, class T>
void backward_operand(const BroadcastPlan& p, const T* dout, const T* a, const T* b, T* grad,
                      int device) {
  const int64_t target_numel = WHICH == 0 ? p.numel_a : p.numel_b;
  const char* op = OP == BinaryOp::add ? "add" : OP == BinaryOp::sub ? "sub" : "mul";
  asn::cuda::set_device(device);
  if (p.numel == 0) {  // an empty output: every target element gets an empty sum
    asn::cuda::memset_zero(grad, static_cast<size_t>(target_numel) * sizeof(T), device);
    return;
  }
  if (target_numel == p.numel) {
    // Not broadcast: one term per output element.
    if constexpr (OP == BinaryOp::mul) {
      if (WHICH == 0) {
        plan_map(op, p, dout, b, grad, MulGradA{}, device);
      } else {
        plan_map(op, p, a, dout, grad, MulGradB{}, device);
      }
    } else {
      cuda::launch_map1(op, dout, grad, p.numel, AddSubGrad<OP, WHICH>{}, device);
    }
    return;
  }
  reduce_grad<OP, WHICH>(p, dout, WHICH == 0 ? b : a, grad, device);
  ASN_KERNEL_CHECK(op);
}

template <BinaryOp OP, class T>
void backward_op(int which, const BroadcastPlan& p, const T* dout, const T* a, const T* b, T* grad,
                 int device) {
  if (which == 0) {
    backward_operand<OP, 0>(p, dout, a, b, grad, device);
  } else {
    backward_operand<OP, 1>(p, dout, a, b, grad, device);
  }
}

}  // namespace

template <class T>
void binary_forward_cuda(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out,
                         int device) {
  switch (op) {
    case BinaryOp::add:
      plan_map("add", plan, a, b, out, ForwardTerm<BinaryOp::add>{}, device);
      return;
    case BinaryOp::sub:
      plan_map("sub", plan, a, b, out, ForwardTerm<BinaryOp::sub>{}, device);
      return;
    case BinaryOp::mul:
      plan_map("mul", plan, a, b, out, ForwardTerm<BinaryOp::mul>{}, device);
      return;
  }
}

template <class T>
void binary_backward_cuda(BinaryOp op, int which, const BroadcastPlan& plan, const T* dout,
                          const T* a, const T* b, T* grad, int device) {
  switch (op) {
    case BinaryOp::add:
      backward_op<BinaryOp::add>(which, plan, dout, a, b, grad, device);
      return;
    case BinaryOp::sub:
      backward_op<BinaryOp::sub>(which, plan, dout, a, b, grad, device);
      return;
    case BinaryOp::mul:
      backward_op<BinaryOp::mul>(which, plan, dout, a, b, grad, device);
      return;
  }
}

#define ASN_INSTANTIATE(T)                                                                       \
  template void binary_forward_cuda<T>(BinaryOp, const BroadcastPlan&, const T*, const T*, T*,   \
                                       int);                                                     \
  template void binary_backward_cuda<T>(BinaryOp, int, const BroadcastPlan&, const T*, const T*, \
                                        const T*, T*, int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
