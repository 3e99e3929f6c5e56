// The AssembleNet / AssembleNet++ block group (assemblenet-spec §1.5): `count` interleaved
// bottleneck blocks. Block `step` of a group:
//
//   shortcut = projection ? BN(conv 1x1, stride s -> 4f) : x          (projection only in step 0)
//   y = ReLU(BN(odd step  ? temporal conv (3,1,1), dilation d -> f    ("(2+1)D" block)
//               : conv 1x1 -> f))                                      ("2D" block)
//   y = ReLU(BN(conv (1,3,3), stride s -> inter))                      (fixed padding when strided)
//   y = BN(conv 1x1 -> 4f)                                             (gamma initialised to 0)
//   out = ReLU(y + shortcut)
//
// The stride applies to the first block only, to both the 3x3 and the shortcut 1x1 (which then
// samples even positions). Input (N, T, H, W, cin) -> (N, T, H/s, W/s, 4f).
#pragma once

#include <string>
#include <vector>

#include "layers/block_sequence.h"
#include "layers/conv_bn.h"

namespace asn::layers {

struct BottleneckSpec {
  int64_t cin = 0;
  int64_t filters = 0;  // f
  int64_t inter = 0;    // 3x3 width of this level
  int64_t stride = 1;
  int64_t temporal_dilation = 1;
};

class BottleneckBlock {
 public:
  BottleneckBlock(ag::Parameters& ps, const std::string& name, const BottleneckSpec& spec, int step,
                  bool projection);
  ag::Variable forward(const ag::Variable& x, bool training) const;
  Shape output_shape(const Shape& x) const;
  int64_t macs(const Shape& x) const;

 private:
  bool projection_;
  ConvBn shortcut_, a_, b_, c_;
};

class BottleneckGroup : public BlockSequence<BottleneckBlock> {
 public:
  BottleneckGroup() = default;
  // Blocks `<name>/block_<k>/...` for k in [0, count).
  BottleneckGroup(ag::Parameters& ps, const std::string& name, const BottleneckSpec& spec, int count);
};

}  // namespace asn::layers
