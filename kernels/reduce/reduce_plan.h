// How a reduction over a set of axes walks a contiguous row-major tensor.
//
// Adjacent axes that are both reduced or both kept are merged, so any axis set becomes an
// alternation of kept and reduced blocks, e.g. mean over (H, W) of (N, T, H, W, C) is
// kept (N*T) | reduced (H*W) | kept (C). The innermost block is one contiguous run of `inner`
// elements; it is either kept (each output is a vector of `inner` values, summed run by run) or
// reduced (each output is one value, summed over whole runs). The other blocks are visited by
// mixed-radix counters:
//   outputs:  `outer` of them, each `inner` values wide when the innermost block is kept
//   per output: `rows` runs, the run of (outer index o, row r) starting at
//               offset(o, r) = sum of o's kept-block digits * stride + r's reduced digits * stride
// Outputs are numbered in the order of the kept axes, which is the row-major order of the result
// (with or without keepdims).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/shape.h"

namespace asn::kernels {

struct ReducePlan {
  std::vector<int64_t> outer_sizes, outer_strides;  // kept blocks except an innermost kept one
  std::vector<int64_t> row_sizes, row_strides;  // reduced blocks except an innermost reduced one
  int64_t inner = 1;                            // length of the innermost contiguous run
  bool inner_reduced = false;                   // the innermost run is summed into one value
  int64_t outer = 1;                            // product of outer_sizes
  int64_t rows = 1;                             // product of row_sizes
  int64_t reduce_count = 1;                     // input elements per output value
  int64_t out_numel = 1;                        // outer * (inner_reduced ? 1 : inner)

  // Offset of the first element of run (o, r).
  int64_t offset(int64_t o, int64_t r) const { return outer_offset(o) + row_offset(r); }
  int64_t outer_offset(int64_t o) const { return digits_offset(o, outer_sizes, outer_strides); }
  int64_t row_offset(int64_t r) const { return digits_offset(r, row_sizes, row_strides); }
  // Mixed-radix decode; the outermost digit needs no modulo (index < product of sizes), so the
  // common single-block case costs no division.
  static int64_t digits_offset(int64_t index, const std::vector<int64_t>& sizes,
                               const std::vector<int64_t>& strides) {
    int64_t off = 0;
    for (size_t d = sizes.size(); d-- > 1;) {
      off += (index % sizes[d]) * strides[d];
      index /= sizes[d];
    }
    return sizes.empty() ? off : off + index * strides[0];
  }
};

// `reduced[a]` says whether axis a of `shape` is reduced (one flag per axis).
ReducePlan make_reduce_plan(const Shape& shape, const std::vector<bool>& reduced);

}  // namespace asn::kernels
