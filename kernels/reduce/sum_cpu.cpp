// CPU sum / mean over axes (see sum.h).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/reduce/sum.h"

namespace asn::kernels {

namespace {

constexpr int64_t kBlockElements = int64_t{1} << 16;

// Sums the elements [a, b) of output o's reduced sequence into acc, where the sequence is the
// concatenation of its runs (innermost run reduced: acc has one value).
template <class T>
void sum_reduced_runs(const T* x, const ReducePlan& plan, int64_t o, int64_t a, int64_t b,
                      double& acc) {
  if (a >= b) return;
  const int64_t base = plan.outer_offset(o);
  int64_t r = a == 0 ? 0 : a / plan.inner;  // a == 0 unless the reduction spans several blocks
  int64_t i0 = a == 0 ? 0 : a % plan.inner;
  for (int64_t pos = a; pos < b; ++r, i0 = 0) {
    const int64_t len = std::min(plan.inner - i0, b - pos);
    const T* p = x + base + plan.row_offset(r) + i0;
    double s = 0;
    for (int64_t i = 0; i < len; ++i) s += static_cast<double>(p[i]);
    acc += s;
    pos += len;
  }
}

// Adds runs [ra, rb) of output o into acc (innermost run kept: acc has `inner` values).
template <class T>
void sum_kept_runs(const T* x, const ReducePlan& plan, int64_t o, int64_t ra, int64_t rb,
                   double* acc) {
  const int64_t base = plan.outer_offset(o);
  for (int64_t r = ra; r < rb; ++r) {
    const T* p = x + base + plan.row_offset(r);
    for (int64_t i = 0; i < plan.inner; ++i) acc[i] += static_cast<double>(p[i]);
  }
}

}  // namespace

template <class T>
void sum_forward_cpu(const T* x, const ReducePlan& plan, double scale, T* y) {
  const int64_t width = plan.inner_reduced ? 1 : plan.inner;  // values per output
  // Units of the reduced sequence per output: elements (innermost reduced) or runs (kept).
  const int64_t units = plan.inner_reduced ? plan.reduce_count : plan.rows;
  const int64_t unit_elems = plan.inner_reduced ? 1 : plan.inner;
  const int64_t block_units = std::max<int64_t>(plan.inner_reduced ? 1 : 16,
                                                kBlockElements / std::max<int64_t>(unit_elems, 1));
  const int64_t blocks = std::max<int64_t>(1, (units + block_units - 1) / block_units);
  // One partial per (output, block) when a reduction spans several blocks.
  std::vector<double> partial(blocks > 1 ? static_cast<size_t>(plan.outer * blocks * width) : 0);
  const int64_t tasks = plan.outer * blocks;
  // About kBlockElements input elements per parallel chunk.
  const int64_t task_elems = std::max<int64_t>(1, std::min(units, block_units) * unit_elems);
  const int64_t grain = std::max<int64_t>(1, kBlockElements / task_elems);
  if (plan.inner_reduced && plan.rows == 1 && blocks == 1) {
    // Each output sums one contiguous run (e.g. a mean over the channels): no bookkeeping.
    parallel_for(0, plan.outer, grain, [&](int64_t ob, int64_t oe) {
      for (int64_t o = ob; o < oe; ++o) {
        const T* p = x + plan.outer_offset(o);
        double s = 0;
        for (int64_t i = 0; i < plan.inner; ++i) s += static_cast<double>(p[i]);
        y[o] = static_cast<T>(s * scale);
      }
    });
    return;
  }
  parallel_for(0, tasks, grain, [&](int64_t tb, int64_t te) {
    std::vector<double> acc(static_cast<size_t>(width));
    for (int64_t task = tb; task < te; ++task) {
      // With one block per output, task == o (no division on the short-reduction path).
      const int64_t o = blocks == 1 ? task : task / blocks;
      const int64_t blk = blocks == 1 ? 0 : task % blocks;
      const int64_t ua = blk * block_units, ub = std::min(units, ua + block_units);
      std::fill(acc.begin(), acc.end(), 0.0);
      if (plan.inner_reduced) {
        sum_reduced_runs(x, plan, o, ua, ub, acc[0]);
      } else {
        sum_kept_runs(x, plan, o, ua, ub, acc.data());
      }
      if (blocks == 1) {
        T* yo = y + o * width;
        for (int64_t i = 0; i < width; ++i)
          yo[i] = static_cast<T>(acc[static_cast<size_t>(i)] * scale);
      } else {
        std::copy(acc.begin(), acc.end(), partial.begin() + task * width);
      }
    }
  });
  if (blocks == 1) return;
  parallel_for(0, plan.outer, 1, [&](int64_t ob, int64_t oe) {
    for (int64_t o = ob; o < oe; ++o) {
      for (int64_t i = 0; i < width; ++i) {
        double s = 0;
        for (int64_t blk = 0; blk < blocks; ++blk)
          s += partial[static_cast<size_t>((o * blocks + blk) * width + i)];
        y[o * width + i] = static_cast<T>(s * scale);
      }
    }
  });
}

template <class T>
void sum_backward_cpu(const T* gy, const ReducePlan& plan, double scale, T* gx) {
  // Writes piece [i0, i1) of run (o, r).
  auto fill = [&](int64_t o, int64_t r, int64_t i0, int64_t i1) {
    T* p = gx + plan.offset(o, r);
    if (plan.inner_reduced) {
      const T v = static_cast<T>(static_cast<double>(gy[o]) * scale);
      for (int64_t i = i0; i < i1; ++i) p[i] = v;
    } else {
      const T* g = gy + o * plan.inner;
      for (int64_t i = i0; i < i1; ++i) p[i] = static_cast<T>(static_cast<double>(g[i]) * scale);
    }
  };
  constexpr int64_t kPiece = 4096;
  if (plan.inner <= kPiece) {
    // Work items: runs (o, r) in order; a chunk decodes its first run and then steps along.
    const int64_t grain = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, plan.inner));
    parallel_for(0, plan.outer * plan.rows, grain, [&](int64_t ib, int64_t ie) {
      int64_t o = ib / plan.rows, r = ib % plan.rows;
      for (int64_t item = ib; item < ie; ++item) {
        fill(o, r, 0, plan.inner);
        if (++r == plan.rows) {
          r = 0;
          ++o;
        }
      }
    });
    return;
  }
  // Long runs: work items are pieces of at most kPiece elements of a run.
  const int64_t pieces = (plan.inner + kPiece - 1) / kPiece;
  parallel_for(0, plan.outer * plan.rows * pieces, kBlockElements / kPiece,
               [&](int64_t ib, int64_t ie) {
                 for (int64_t item = ib; item < ie; ++item) {
                   const int64_t piece = item % pieces;
                   const int64_t run = item / pieces;
                   fill(run / plan.rows, run % plan.rows, piece * kPiece,
                        std::min(plan.inner, (piece + 1) * kPiece));
                 }
               });
}

template void sum_forward_cpu<float>(const float*, const ReducePlan&, double, float*);
template void sum_forward_cpu<double>(const double*, const ReducePlan&, double, double*);
template void sum_backward_cpu<float>(const float*, const ReducePlan&, double, float*);
template void sum_backward_cpu<double>(const double*, const ReducePlan&, double, double*);

}  // namespace asn::kernels
