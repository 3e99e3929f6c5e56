// The AssembleNet++Lite block group (assemblenet-spec §4.2): `count` inverted-bottleneck 3-D
// blocks with filters [f0, f1, f2], all convs TF SAME. Block k of a group:
//
//   shortcut = projection ? BN(conv 1x1x1, stride (1,s,s) -> f2) : x   (projection in block 0)
//   y = ReLU(BN(conv 1x1x1 -> f0))                                     (expansion)
//   strided:  y = ReLU(BN(conv (1,3,3), stride s -> f1)); y = ReLU(BN(conv (3,1,1), dilation d -> f1))
//   else:     y = ReLU(BN(conv (3,3,3), dilation (d,1,1) -> f1))
//   y = BN(conv 1x1x1 -> f2)                                           (gamma initialised to 0)
//   out = ReLU(y + shortcut)
//
// No depthwise convs, no squeeze-excitation, no swish: what the reference computes.
// Input (N, T, H, W, cin) -> (N, T, ceil(H/s), ceil(W/s), f2).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "layers/block_sequence.h"
#include "layers/conv_bn.h"

namespace asn::layers {

struct InvertedBottleneckSpec {
  int64_t cin = 0;
  std::array<int64_t, 3> filters{};  // f0, f1, f2
  int64_t stride = 1;
  int64_t temporal_dilation = 1;
};

class InvertedBottleneckBlock {
 public:
  InvertedBottleneckBlock(ag::Parameters& ps, const std::string& name, const InvertedBottleneckSpec& spec,
                          bool first);
  ag::Variable forward(const ag::Variable& x, bool training) const;
  Shape output_shape(const Shape& x) const;
  int64_t macs(const Shape& x) const;

 private:
  bool projection_ = false;
  bool strided_ = false;
  ConvBn shortcut_, expand_, spatial_, temporal_, project_;
};

class InvertedBottleneckGroup : public BlockSequence<InvertedBottleneckBlock> {
 public:
  InvertedBottleneckGroup() = default;
  InvertedBottleneckGroup(ag::Parameters& ps, const std::string& name, const InvertedBottleneckSpec& spec,
                          int count);
};

}  // namespace asn::layers
