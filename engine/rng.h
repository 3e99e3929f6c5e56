// Generator: a seed plus a running offset into the Philox stream (engine/philox.h).
//
// Every draw (one call of a fill function, one dropout mask) consumes one offset, so a draw's values
// depend only on (seed, offset) and never on how many elements earlier draws had. The state is two
// integers, saved in checkpoints for exact resume.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace asn {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t offset = 0) : seed_(seed), offset_(offset) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Returns the offset for the next draw and advances.
  uint64_t next_offset() { return offset_++; }

  // Single host-side values (each consumes one offset).
  double uniform();                       // [0, 1)
  uint64_t uniform_int(uint64_t n);       // [0, n), n >= 1, unbiased
  double normal(double mean, double std);

  // Fill an f32/f64 tensor on any device (same values on CPU and CUDA). Each call consumes one offset.
  void fill_uniform(Tensor& t, double lo, double hi);
  void fill_normal(Tensor& t, double mean, double std);
  // TF's truncated normal: values further than 2 std from the mean are redrawn.
  void fill_truncated_normal(Tensor& t, double mean, double std);

 private:
  uint64_t seed_;
  uint64_t offset_;
};

}  // namespace asn
