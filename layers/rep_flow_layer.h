// The representation-flow layer as a module (assemblenet-spec §5): declares theta, lambda, tau and
// the six gradient/divergence filters under `<name>/...` (non-trainable buffers by default, as in
// the reference; trainable without weight decay on request) and runs the TV-L1 op.
//
//   RepFlowLayer         AssembleNet's use (bottleneck == 1): rgb (N, T, H, W, 3) -> flow (N, T, H, W, 2)
//   FeatureRepFlowLayer  the general path (§5.3) for feature maps x (N, T, H, W, C): 1x1 conv C -> b
//                        (when C != b), per-channel flow (N, T, H, W, 2b), 1x1 conv 2b -> C, BN with
//                        gamma initialised to 0, out = ReLU(that + x).
#pragma once

#include <string>

#include "autograd/functions/rep_flow.h"
#include "layers/conv_bn.h"

namespace asn::layers {

class RepFlowLayer {
 public:
  RepFlowLayer(ag::Parameters& ps, const std::string& name, int iterations, bool trainable);
  ag::Variable forward(const ag::Variable& rgb) const;
  const ag::RepFlowParams& params() const { return params_; }

 private:
  ag::RepFlowParams params_;
  ag::RepFlowOptions options_;
};

class FeatureRepFlowLayer {
 public:
  FeatureRepFlowLayer(ag::Parameters& ps, const std::string& name, int64_t channels, int64_t bottleneck,
                      int iterations, bool trainable);
  ag::Variable forward(const ag::Variable& x, bool training) const;

 private:
  int64_t channels_, bottleneck_;
  Conv reduce_;
  ConvBn expand_;
  ag::RepFlowParams params_;
  ag::RepFlowOptions options_;
};

// Declares the nine flow variables under `<name>/`.
ag::RepFlowParams declare_rep_flow_params(ag::Parameters& ps, const std::string& name, bool trainable);

}  // namespace asn::layers
