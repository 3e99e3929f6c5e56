// Representation flow (assemblenet-spec §5): the differentiable TV-L1 flow layer core.
//
//   rep_flow(x, params, opt) = tvl1_flow(rep_flow_input(x, opt), params, opt)
//
// x (N, T, H, W, C) -> flow (N, T, H, W, 2C'), C' = 1 with opt.channel_mean (AssembleNet's
// bottleneck == 1 path on RGB: C = 3 -> 2 channels, channel 0 = u1 = x / width displacement,
// channel 1 = u2 = y / height), else C' = C (the general per-channel path: output channels are u1
// of every channel, then u2 of every channel, the reference's concat order).
//
//   rep_flow_input: mean over channels (opt.channel_mean), whole-tensor min/max normalisation to
//     [0, 255] (opt.normalize; the reference applies it on both of its paths). max == min gives
//     x - min (all zeros). See kernels/repflow/flow_normalize.h.
//   tvl1_flow: frame pairs per clip, opt.iterations unrolled TV-L1 iterations, the last flow frame
//     duplicated so T frames give T flow frames; T == 1 gives a zero flow. See
//     kernels/repflow/tvl1_flow.h for the maths, the border rules and the memory of the
//     checkpointed backward pass.
//
// Parameters are Variables of x's dtype and device, frozen (requires_grad false) by default as in
// the reference; any of them can be made trainable, and backward then returns its exact gradient.
// Differences from the reference and the decisions above: docs/rep-flow.md.
#pragma once

#include <string>
#include <vector>

#include "autograd/variable.h"
#include "kernels/repflow/tvl1_flow.h"

namespace asn::ag {

// The nine variables of the layer (names as in the reference's `rep_flow/` scope).
struct RepFlowParams {
  Variable theta;       // (1,)  init 0.3
  Variable lambda;      // (1,)  init 0.15
  Variable tau;         // (1,)  init 0.25
  Variable img_grad_x;  // (3,)  init [-0.5, 0, 0.5]: central image gradient along W
  Variable img_grad_y;  // (3,)  init [-0.5, 0, 0.5]: along H
  Variable f_grad_x;    // (2,)  init [-1, 1]: divergence along W
  Variable f_grad_y;    // (2,)  init [-1, 1]: divergence along H
  Variable f_grad_x2;   // (2,)  init [-1, 1]: forward difference along W
  Variable f_grad_y2;   // (2,)  init [-1, 1]: forward difference along H

  // The nine Variables in the order above.
  std::vector<Variable> list() const;
  // Builds the struct from nine Variables in the order above.
  static RepFlowParams from_list(const std::vector<Variable>& vars);
};

// Name, shape and initial values of each variable, in RepFlowParams order, for layers that declare
// them in a Parameters store.
struct RepFlowParamSpec {
  std::string name;  // "theta", "lambda", "tau", "img_grad_x", ..., "f_grad_y2"
  Shape shape;
  std::vector<double> init;
};
std::vector<RepFlowParamSpec> rep_flow_param_specs(const kernels::TvL1Params& init = {});

// Stand-alone leaf Variables holding `values` (defaults: the reference's initial values).
RepFlowParams rep_flow_params(const kernels::TvL1Params& values = {}, DType dtype = DType::f32,
                              Device device = Device::cpu(), bool trainable = false);

// The current values of the Variables, read to the host (a device sync on CUDA).
kernels::TvL1Params rep_flow_param_values(const RepFlowParams& params);

struct RepFlowOptions {
  int iterations = 40;        // AssembleNet / AssembleNet++: 40; AssembleNet++Lite: 20
  bool channel_mean = true;   // the bottleneck == 1 path: mean of the input channels first
  bool normalize = true;      // whole-tensor min/max normalisation to [0, 255]
  int checkpoint_every = 0;   // K: keep the TV-L1 state every K iterations; 0: ceil(sqrt(iterations))
};

// The whole layer core (one tape node per stage).
Variable rep_flow(const Variable& x, const RepFlowParams& params, const RepFlowOptions& opt = {});

// Steps 1-2: (N, T, H, W, C) -> (N, T, H, W, C'). Returns x itself when neither the channel mean nor
// the normalisation is asked for.
Variable rep_flow_input(const Variable& x, const RepFlowOptions& opt = {});

// Steps 3-5 on an already prepared image (N, T, H, W, C) -> (N, T, H, W, 2C); opt.channel_mean and
// opt.normalize are ignored here.
Variable tvl1_flow(const Variable& image, const RepFlowParams& params,
                   const RepFlowOptions& opt = {});

}  // namespace asn::ag
