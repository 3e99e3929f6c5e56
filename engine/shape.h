// Shape: the sizes of a tensor's axes, at most kMaxRank of them, stored inline.
//
// Activations are channels-last (N, T, H, W, C); weights (Cout, kT, kH, kW, Cin). All tensors are
// contiguous row-major, so strides are implied by the shape.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace asn {

class Shape {
 public:
  static constexpr int kMaxRank = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  // Size of axis i; negative i counts from the end (-1 is the last axis).
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(norm_axis(i))]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(norm_axis(i))]; }
  int64_t numel() const;
  // Product of the sizes of axes [begin, end).
  int64_t prod(int begin, int end) const;
  // Maps a possibly negative axis to [0, rank); throws ShapeError naming the shape if out of range.
  int norm_axis(int axis) const;

  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
  // Row-major strides in elements.
  std::vector<int64_t> strides() const;
  // Copy with axis `axis` set to `size`.
  Shape with(int axis, int64_t size) const;
  // "(2, 8, 56, 56, 64)".
  std::string str() const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace asn
