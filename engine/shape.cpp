// Shape arithmetic and printing.
#include "engine/shape.h"

#include "engine/error.h"

namespace asn {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  ASN_CHECK_SHAPE(static_cast<int>(dims.size()) <= kMaxRank, "shape rank {} exceeds the maximum {}",
                  dims.size(), kMaxRank);
  rank_ = static_cast<int>(dims.size());
  for (int i = 0; i < rank_; ++i) {
    ASN_CHECK_SHAPE(dims[static_cast<size_t>(i)] >= 0, "negative size {} at axis {}",
                    dims[static_cast<size_t>(i)], i);
    dims_[static_cast<size_t>(i)] = dims[static_cast<size_t>(i)];
  }
}

int64_t Shape::numel() const { return prod(0, rank_); }

int64_t Shape::prod(int begin, int end) const {
  int64_t n = 1;
  for (int i = begin; i < end; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

int Shape::norm_axis(int axis) const {
  int a = axis < 0 ? axis + rank_ : axis;
  if (a < 0 || a >= rank_) {
    throw ShapeError(fmt::format("axis {} is out of range for a tensor of shape {}", axis, str()));
  }
  return a;
}

std::vector<int64_t> Shape::strides() const {
  std::vector<int64_t> s(static_cast<size_t>(rank_), 1);
  for (int i = rank_ - 2; i >= 0; --i)
    s[static_cast<size_t>(i)] = s[static_cast<size_t>(i + 1)] * dims_[static_cast<size_t>(i + 1)];
  return s;
}

Shape Shape::with(int axis, int64_t size) const {
  Shape s = *this;
  s[axis] = size;
  return s;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  if (rank_ == 1) s += ",";
  return s + ")";
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

}  // namespace asn
