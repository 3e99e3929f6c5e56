// Parameters: every parameter of a model in one flat buffer, every gradient in another.
//
// Layers declare parameters (name, shape, initialiser, options) while the model is built; finalize()
// then allocates the flat buffers, points each parameter's Variable at its slice, and runs the
// initialisers in declaration order from one Generator (so a seed fixes every initial value).
//
// Layout of the trainable buffer: first every parameter that takes weight decay (conv and dense
// kernels), then every one that does not (BN gamma/beta, biases, edge-weight logits, attention
// logits). An optimizer applies decay to elements [0, decay_count()) only. Non-trainable state
// (BN moving statistics, fixed edge weights, frozen flow parameters) lives in a third flat buffer
// of "buffers" that has no gradient and that optimizers never touch.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "engine/rng.h"

namespace asn::ag {

// Writes the initial value into a CPU tensor of the parameter's shape and dtype.
using Initializer = std::function<void(Tensor& value, Generator& gen)>;

struct ParamOptions {
  bool trainable = true;     // false: stored in the buffers, no gradient
  bool weight_decay = true;  // only meaningful when trainable
};

struct ParamEntry {
  std::string name;
  Variable var;
  Initializer init;
  ParamOptions options;
  int64_t offset = -1;  // element offset in its flat buffer (after finalize)
};

class Parameters {
 public:
  // Declares a parameter. Names must be unique ("node_5/block_0/conv_0/kernel").
  Variable add(const std::string& name, const Shape& shape, Initializer init, ParamOptions options = {});
  // Declares non-trainable state (BN moving statistics, fixed edge logits).
  Variable add_buffer(const std::string& name, const Shape& shape, Initializer init);

  // Allocates the flat buffers in `dtype` on `device` and initialises every entry from `gen`.
  void finalize(DType dtype, Device device, Generator& gen);
  bool finalized() const { return finalized_; }
  // Moves (or casts) everything to another device / dtype, keeping values; gradients are reset.
  void to(DType dtype, Device device);

  // Zeroes the gradient buffer (all parameter gradients at once).
  void zero_grad();

  Tensor& values() { return values_; }        // (num_trainable,) flat trainable values
  Tensor& grads() { return grads_; }          // (num_trainable,) flat gradients
  Tensor& buffers() { return buffers_; }      // (num_buffer,) flat non-trainable state
  int64_t num_trainable() const { return num_trainable_; }
  int64_t num_buffer_elements() const { return num_buffer_; }
  int64_t decay_count() const { return decay_count_; }

  const std::vector<ParamEntry>& entries() const { return entries_; }
  // The entry called `name`; throws ValueError naming it when absent.
  const ParamEntry& find(const std::string& name) const;
  bool contains(const std::string& name) const;
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

 private:
  void check_open(const std::string& name) const;
  void bind_views();

  std::vector<ParamEntry> entries_;
  bool finalized_ = false;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
  Tensor values_, grads_, buffers_;
  int64_t num_trainable_ = 0, num_buffer_ = 0, decay_count_ = 0;
};

// Common initialisers (all TF-compatible where the reference uses TF's).
namespace init {
Initializer zeros();
Initializer ones();
Initializer constant(double v);
// TF variance_scaling(scale, mode="fan_in", distribution="truncated_normal"):
// std = sqrt(scale / fan_in) / 0.87962566103423978 (the correction for truncation at 2 std).
Initializer variance_scaling_fan_in(double scale, int64_t fan_in);
Initializer truncated_normal(double mean, double std);
Initializer normal(double mean, double std);
Initializer uniform(double lo, double hi);
Initializer from_values(std::vector<double> values);
}  // namespace init

}  // namespace asn::ag
