// BlockSequence: the part every block group shares, whatever its block type: run the blocks one
// after the other, infer the output shape, add up the multiply-accumulates.
#pragma once

#include <vector>

#include "autograd/variable.h"

namespace asn::layers {

template <class Block>
class BlockSequence {
 public:
  ag::Variable forward(const ag::Variable& x, bool training) const {
    ag::Variable y = x;
    for (const auto& b : blocks_) y = b.forward(y, training);
    return y;
  }
  Shape output_shape(const Shape& x) const {
    Shape y = x;
    for (const auto& b : blocks_) y = b.output_shape(y);
    return y;
  }
  int64_t macs(const Shape& x) const {
    Shape y = x;
    int64_t m = 0;
    for (const auto& b : blocks_) {
      m += b.macs(y);
      y = b.output_shape(y);
    }
    return m;
  }

 protected:
  std::vector<Block> blocks_;
};

}  // namespace asn::layers
