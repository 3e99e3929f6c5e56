// The stems (assemblenet-spec §1.4, §4.1). All keep T; inputs and outputs (N, T, H, W, C).
//
//   RgbStem  (AssembleNet/++): conv (1,7,7)/2 fixed padding -> BN ReLU -> temporal conv (5,1,1),
//            dilation max(d,1) -> BN ReLU -> max-pool (1,3,3)/2 SAME.            224 -> 56
//   FlowStem (AssembleNet/++): conv (1,7,7)/2 fixed padding on the 2-channel flow -> BN ReLU ->
//            max-pool (1,2,2)/2 SAME. No temporal conv; the node's dilation is ignored.
//   ObjectStem: max-pool (1,4,4)/4 SAME of the object maps; no parameters.
//   LiteStem (both RGB and flow in Lite): conv (1,3,3)/2 SAME -> BN ReLU -> temporal conv (3,1,1),
//            dilation max(d,1) -> BN ReLU. No pooling.                            224 -> 112
#pragma once

#include <string>

#include "layers/conv_bn.h"

namespace asn::layers {

class RgbStem {
 public:
  RgbStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters, int64_t temporal_dilation);
  ag::Variable forward(const ag::Variable& x, bool training) const;
  Shape output_shape(const Shape& x) const;
  int64_t macs(const Shape& x) const;

 private:
  ConvBn spatial_, temporal_;
};

class FlowStem {
 public:
  FlowStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters);
  ag::Variable forward(const ag::Variable& flow, bool training) const;
  Shape output_shape(const Shape& x) const;
  int64_t macs(const Shape& x) const;

 private:
  ConvBn spatial_;
};

class ObjectStem {
 public:
  ag::Variable forward(const ag::Variable& objects) const;
  Shape output_shape(const Shape& x) const;
};

class LiteStem {
 public:
  LiteStem(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t filters, int64_t temporal_dilation);
  ag::Variable forward(const ag::Variable& x, bool training) const;
  Shape output_shape(const Shape& x) const;
  int64_t macs(const Shape& x) const;

 private:
  ConvBn spatial_, temporal_;
};

}  // namespace asn::layers
