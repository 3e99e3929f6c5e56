// Network: a trainable AssembleNet / AssembleNet++ / AssembleNet++Lite built from a Structure.
//
// Construction declares every parameter (nothing is allocated until initialize()) and infers every
// node's output shape for the input size the network is built for, so summaries cost nothing.
// Nodes are built and run in list order; node i's parameters are named `node_<i>/...`, the flow
// layer's `rep_flow/...`, the head's `head/...` (docs/weights.md lists them).
//
// Inputs: rgb (N, T, H, W, 3), values as the reference expects them (e.g. [0, 1]); objects
// (N, T, H, W, num_object_classes) when the structure has an object stem. Output: logits (N, K).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "engine/rng.h"
#include "graph/structure.h"

namespace asn::graph {

struct InputSpec {
  int64_t frames = 8;
  int64_t height = 224;
  int64_t width = 224;
  std::string str() const;  // "8x224x224"
  // Parses "8x224x224" (frames x height x width) or "8x224" (square frames).
  static InputSpec parse(const std::string& s);
};

struct NodeSummary {
  int index = -1;          // -1 for the flow layer and the head
  std::string name;        // "node_5", "rep_flow", "head"
  std::string kind;        // "rgb stem", "level 1 block (3 blocks, f=64)", ...
  std::vector<int> inputs;
  Shape output;            // for a batch of 1
  int64_t trainable_params = 0;
  int64_t fixed_params = 0;  // non-trainable values (BN moving statistics excluded)
  int64_t macs = 0;          // conv + dense multiply-accumulates for a batch of 1
};

struct NetworkInputs {
  ag::Variable rgb;
  ag::Variable objects;
};

struct NetworkOutputs {
  ag::Variable logits;              // (N, K)
  std::vector<ag::Variable> nodes;  // every node's output, in list order
  ag::Variable flow;                // (N, T, H, W, 2) when the structure has a flow stem
};

class Network {
 public:
  Network(const Structure& structure, const InputSpec& input);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Allocates the flat parameter buffers and initialises them from `seed` (declaration order).
  void initialize(DType dtype, Device device, uint64_t seed);
  bool initialized() const { return params_.finalized(); }

  NetworkOutputs forward(const NetworkInputs& inputs, bool training, Generator* dropout_gen = nullptr) const;

  ag::Parameters& parameters() { return params_; }
  const ag::Parameters& parameters() const { return params_; }
  const Structure& structure() const { return structure_; }
  const InputSpec& input_spec() const { return input_; }
  // Output channels of node i.
  int64_t node_channels(int i) const;

  // One row per node plus the flow layer and the head, at batch 1.
  std::vector<NodeSummary> summary() const;
  int64_t trainable_parameter_count() const;
  // The sigmoid edge weights of node i (empty for stems and single-input nodes).
  std::vector<double> edge_weights(int i) const;

 private:
  struct Impl;
  Structure structure_;
  InputSpec input_;
  ag::Parameters params_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace asn::graph
