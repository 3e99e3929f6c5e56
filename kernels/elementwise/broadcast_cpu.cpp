// CPU broadcasting add / sub / mul and their gradients (kernels/elementwise/broadcast.h).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/elementwise/broadcast.h"

namespace asn::kernels {

namespace {

constexpr int64_t kGrain = 1 << 15;  // output elements per chunk below which a loop runs serially

// Calls f(out_offset, a_offset, b_offset, length) for each contiguous run of output elements in
// [lo, hi): a run stays inside one innermost merged axis, along which a and b advance by
// stride_a[rank - 1] and stride_b[rank - 1] (0 or 1).
template <class F>
void for_each_run(const BroadcastPlan& p, int64_t lo, int64_t hi, F&& f) {
  const int last = p.rank - 1;
  const int64_t inner = p.dims[last];
  int64_t e = lo;
  while (e < hi) {
    int64_t row = e / inner;
    const int64_t k0 = e - row * inner;
    const int64_t len = std::min(inner - k0, hi - e);
    int64_t ia = k0 * p.stride_a[last];
    int64_t ib = k0 * p.stride_b[last];
    for (int j = last - 1; j >= 0; --j) {
      const int64_t idx = row % p.dims[j];
      row /= p.dims[j];
      ia += idx * p.stride_a[j];
      ib += idx * p.stride_b[j];
    }
    f(e, ia, ib, len);
    e += len;
  }
}

// out[k] = op(a[k * SA], b[k * SB]) for one run; SA, SB in {0, 1} as template arguments so the
// loop vectorises.
template <BinaryOp OP, int SA, int SB, class T>
void forward_run(const T* a, const T* b, T* out, int64_t len) {
  for (int64_t k = 0; k < len; ++k) out[k] = binary_value<OP>(a[k * SA], b[k * SB]);
}

template <BinaryOp OP, class T>
void forward_plan(const BroadcastPlan& p, const T* a, const T* b, T* out) {
  const int64_t sa = p.stride_a[p.rank - 1], sb = p.stride_b[p.rank - 1];
  parallel_for(0, p.numel, kGrain, [&](int64_t lo, int64_t hi) {
    for_each_run(p, lo, hi, [&](int64_t o, int64_t ia, int64_t ib, int64_t len) {
      if (sa == 1 && sb == 1) {
        forward_run<OP, 1, 1>(a + ia, b + ib, out + o, len);
      } else if (sa == 1) {
        forward_run<OP, 1, 0>(a + ia, b + ib, out + o, len);
      } else if (sb == 1) {
        forward_run<OP, 0, 1>(a + ia, b + ib, out + o, len);
      } else {
        forward_run<OP, 0, 0>(a + ia, b + ib, out + o, len);
      }
    });
  });
}

// The gradient term of operand WHICH at one element: g times the derivative, given the other
// operand's value.
template <BinaryOp OP, int WHICH, class T>
T grad_term(T g, T other) {
  if constexpr (WHICH == 0) {
    return binary_grad_a<OP>(g, other);
  } else {
    return binary_grad_b<OP>(g, other);
  }
}

// Gradient of operand WHICH (0 = a, 1 = b); `other` is the other operand (null for add / sub).
template <BinaryOp OP, int WHICH, class T>
void backward_plan(const BroadcastPlan& p, const T* dout, const T* other, T* grad) {
  constexpr bool kUsesOther = OP == BinaryOp::mul;
  const int last = p.rank - 1;
  const int64_t* st = WHICH == 0 ? p.stride_a : p.stride_b;  // target strides
  const int64_t st_in = st[last];
  const int64_t so_in = WHICH == 0 ? p.stride_b[last] : p.stride_a[last];
  const int64_t target_numel = WHICH == 0 ? p.numel_a : p.numel_b;
  if (p.numel == 0) {  // an empty output: every target element gets an empty sum
    std::fill(grad, grad + target_numel, T(0));
    return;
  }
  // Splits a run's (a, b) offsets into (target, other).
  auto split = [](int64_t ia, int64_t ib, int64_t* it, int64_t* io) {
    *it = WHICH == 0 ? ia : ib;
    *io = WHICH == 0 ? ib : ia;
  };
  auto other_at = [&](int64_t i) { return kUsesOther ? other[i] : T(0); };

  if (target_numel == p.numel) {
    // Not broadcast: one term per element, no reduction.
    parallel_for(0, p.numel, kGrain, [&](int64_t lo, int64_t hi) {
      for_each_run(p, lo, hi, [&](int64_t o, int64_t ia, int64_t ib, int64_t len) {
        int64_t it, io;
        split(ia, ib, &it, &io);
        for (int64_t k = 0; k < len; ++k) {
          grad[o + k] = grad_term<OP, WHICH>(dout[o + k], other_at(io + k * so_in));
        }
      });
    });
    return;
  }

  // Adds the terms of the output elements [lo, hi) into acc, indexed by target offset - base.
  auto accumulate = [&](int64_t lo, int64_t hi, int64_t base, double* acc) {
    for_each_run(p, lo, hi, [&](int64_t o, int64_t ia, int64_t ib, int64_t len) {
      int64_t it, io;
      split(ia, ib, &it, &io);
      double* a = acc + (it - base);
      for (int64_t k = 0; k < len; ++k) {
        a[k * st_in] +=
            static_cast<double>(grad_term<OP, WHICH>(dout[o + k], other_at(io + k * so_in)));
      }
    });
  };

  if (p.rank >= 2 && st[0] != 0) {
    // The outermost merged axis is kept: index i0 of it owns the target elements
    // [i0 * st[0], (i0 + 1) * st[0]), so threads write disjoint outputs (thread-count independent).
    const int64_t slice = st[0];
    const int64_t per = p.numel / p.dims[0];
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(per, 1));
    parallel_for(0, p.dims[0], grain, [&](int64_t b0, int64_t e0) {
      std::vector<double> acc(static_cast<size_t>(slice));
      for (int64_t i0 = b0; i0 < e0; ++i0) {
        std::fill(acc.begin(), acc.end(), 0.0);
        accumulate(i0 * per, (i0 + 1) * per, i0 * slice, acc.data());
        for (int64_t j = 0; j < slice; ++j)
          grad[i0 * slice + j] = static_cast<T>(acc[static_cast<size_t>(j)]);
      }
    });
    return;
  }

  // The outermost merged axis is reduced: one partial sum of the whole target per chunk of a static
  // partition of the output, combined in chunk order.
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(num_threads(), p.numel / kGrain));
  std::vector<std::vector<double>> partial(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      std::vector<double>& acc = partial[static_cast<size_t>(c)];
      acc.assign(static_cast<size_t>(target_numel), 0.0);
      accumulate(p.numel * c / chunks, p.numel * (c + 1) / chunks, 0, acc.data());
    }
  });
  parallel_for(0, target_numel, kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) {
      double s = 0;
      for (int64_t c = 0; c < chunks; ++c)
        s += partial[static_cast<size_t>(c)][static_cast<size_t>(j)];
      grad[j] = static_cast<T>(s);
    }
  });
}

template <BinaryOp OP, class T>
void backward_op(int which, const BroadcastPlan& p, const T* dout, const T* a, const T* b,
                 T* grad) {
  if (which == 0) {
    backward_plan<OP, 0>(p, dout, b, grad);
  } else {
    backward_plan<OP, 1>(p, dout, a, grad);
  }
}

}  // namespace

bool broadcastable(const Shape& a, const Shape& b) {
  if (a.rank() != b.rank()) return false;
  for (int i = 0; i < a.rank(); ++i) {
    if (a[i] != b[i] && a[i] != 1 && b[i] != 1) return false;
  }
  return true;
}

Shape broadcast_shape(const Shape& a, const Shape& b) {
  std::vector<int64_t> dims(static_cast<size_t>(a.rank()));
  // Size 1 stretches to the other's size (also to 0: an empty axis stays empty).
  for (int i = 0; i < a.rank(); ++i) dims[static_cast<size_t>(i)] = a[i] == 1 ? b[i] : a[i];
  return Shape(dims);
}

BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b) {
  BroadcastPlan p;
  const Shape out = broadcast_shape(a, b);
  p.numel = out.numel();
  p.numel_a = a.numel();
  p.numel_b = b.numel();
  // Merge: drop size-1 output axes; join neighbours on which a and b are each full or broadcast
  // alike.
  int64_t dims[BroadcastPlan::kMaxRank];
  bool full_a[BroadcastPlan::kMaxRank], full_b[BroadcastPlan::kMaxRank];
  int r = 0;
  for (int i = 0; i < out.rank(); ++i) {
    if (out[i] == 1) continue;
    const bool fa = a[i] == out[i], fb = b[i] == out[i];
    if (r > 0 && full_a[r - 1] == fa && full_b[r - 1] == fb) {
      dims[r - 1] *= out[i];
    } else {
      dims[r] = out[i];
      full_a[r] = fa;
      full_b[r] = fb;
      ++r;
    }
  }
  if (r == 0) {  // a single element
    dims[0] = 1;
    full_a[0] = full_b[0] = true;
    r = 1;
  }
  p.rank = r;
  int64_t sa = 1, sb = 1;
  for (int j = r - 1; j >= 0; --j) {
    p.dims[j] = dims[j];
    p.stride_a[j] = full_a[j] ? sa : 0;
    p.stride_b[j] = full_b[j] ? sb : 0;
    if (full_a[j]) sa *= dims[j];
    if (full_b[j]) sb *= dims[j];
  }
  return p;
}

template <class T>
void binary_forward_cpu(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out) {
  switch (op) {
    case BinaryOp::add:
      forward_plan<BinaryOp::add>(plan, a, b, out);
      return;
    case BinaryOp::sub:
      forward_plan<BinaryOp::sub>(plan, a, b, out);
      return;
    case BinaryOp::mul:
      forward_plan<BinaryOp::mul>(plan, a, b, out);
      return;
  }
}

template <class T>
void binary_backward_cpu(BinaryOp op, int which, const BroadcastPlan& plan, const T* dout,
                         const T* a, const T* b, T* grad) {
  switch (op) {
    case BinaryOp::add:
      backward_op<BinaryOp::add>(which, plan, dout, a, b, grad);
      return;
    case BinaryOp::sub:
      backward_op<BinaryOp::sub>(which, plan, dout, a, b, grad);
      return;
    case BinaryOp::mul:
      backward_op<BinaryOp::mul>(which, plan, dout, a, b, grad);
      return;
  }
}

#define ASN_INSTANTIATE(T)                                                                      \
  template void binary_forward_cpu<T>(BinaryOp, const BroadcastPlan&, const T*, const T*, T*);  \
  template void binary_backward_cpu<T>(BinaryOp, int, const BroadcastPlan&, const T*, const T*, \
                                       const T*, T*);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
