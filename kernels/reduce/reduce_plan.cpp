// Building a ReducePlan: merge adjacent axes of the same kind, split off the innermost run.
#include "kernels/reduce/reduce_plan.h"

#include "engine/error.h"

namespace asn::kernels {

ReducePlan make_reduce_plan(const Shape& shape, const std::vector<bool>& reduced) {
  ASN_CHECK_SHAPE(static_cast<int>(reduced.size()) == shape.rank(),
                  "reduce plan: {} axis flags for shape {}", reduced.size(), shape.str());
  // Merged blocks, outermost first. Size-1 axes join whatever block they sit next to (they do not
  // change offsets), so a kept size-1 axis between reduced ones does not split them.
  struct Block {
    int64_t size;
    bool reduced;
  };
  std::vector<Block> blocks;
  for (int a = 0; a < shape.rank(); ++a) {
    const int64_t n = shape[a];
    const bool r = reduced[static_cast<size_t>(a)];
    if (!blocks.empty() && (blocks.back().reduced == r || n == 1)) {
      blocks.back().size *= n;
    } else if (!blocks.empty() && blocks.back().size == 1) {
      blocks.back() = Block{n, r};
    } else {
      blocks.push_back(Block{n, r});
    }
  }
  if (blocks.empty()) blocks.push_back(Block{1, false});  // rank 0: one element, nothing reduced

  ReducePlan plan;
  plan.inner = blocks.back().size;
  plan.inner_reduced = blocks.back().reduced;
  int64_t stride = plan.inner;
  std::vector<int64_t> outer_sizes, outer_strides, row_sizes, row_strides;
  for (size_t b = blocks.size() - 1; b-- > 0;) {
    if (blocks[b].reduced) {
      row_sizes.insert(row_sizes.begin(), blocks[b].size);
      row_strides.insert(row_strides.begin(), stride);
    } else {
      outer_sizes.insert(outer_sizes.begin(), blocks[b].size);
      outer_strides.insert(outer_strides.begin(), stride);
    }
    stride *= blocks[b].size;
  }
  plan.outer_sizes = outer_sizes;
  plan.outer_strides = outer_strides;
  plan.row_sizes = row_sizes;
  plan.row_strides = row_strides;
  for (int64_t s : outer_sizes) plan.outer *= s;
  for (int64_t s : row_sizes) plan.rows *= s;
  plan.reduce_count = plan.rows * (plan.inner_reduced ? plan.inner : 1);
  plan.out_numel = plan.outer * (plan.inner_reduced ? 1 : plan.inner);
  return plan;
}

}  // namespace asn::kernels
