// Tensor: a typed, shaped, contiguous view into a Storage.
//
// Every tensor is contiguous row-major; activations are channels-last (N, T, H, W, C). A view shares
// the storage and differs only in element offset and shape: reshape() and narrow() along axis 0
// never copy. Anything that would need strides (a slice along an inner axis, a transpose) is an op
// that writes a new tensor. Tensors are cheap handles: copying a Tensor copies the handle, not data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace asn {

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() is false

  // Uninitialised memory.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  // CPU tensor holding a copy of `values` (size must equal shape.numel()).
  template <class T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values);
  // A tensor viewing an existing storage at an element offset (used by the flat parameter buffer).
  static Tensor view_of(std::shared_ptr<Storage> storage, int64_t offset, const Shape& shape, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  int rank() const { return shape_.rank(); }
  int64_t dim(int axis) const { return shape_[axis]; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  int64_t offset() const { return offset_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Typed pointer to the first element (host or device pointer); checks the dtype.
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Views (no copy).
  Tensor reshape(const Shape& shape) const;  // one axis may be -1 (use reshape_infer)
  Tensor reshape_infer(const std::vector<int64_t>& dims) const;
  Tensor narrow0(int64_t start, int64_t length) const;  // sub-range of axis 0
  Tensor flatten() const { return reshape(Shape{numel()}); }

  // Copies.
  Tensor clone() const;
  Tensor to(Device device) const;  // returns *this when already there
  Tensor to(DType dtype) const;    // cast; returns *this when already that dtype
  // Copies src into this tensor (same numel and dtype; any devices).
  void copy_from(const Tensor& src);
  void fill(double value);
  void zero();

  // CPU-side readback (copies from the device when needed), cast to T.
  template <class T>
  std::vector<T> to_vector() const;
  // The single element of a one-element tensor, as double.
  double item() const;

  bool shares_storage_with(const Tensor& o) const { return storage_ && storage_ == o.storage_; }
  // "Tensor(f32, (2, 3), cpu)".
  std::string str() const;

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
};

// "f32 (2, 3) on cpu" style description used in op error messages.
std::string describe(const Tensor& t);

template <class T>
T* Tensor::data() const {
  ASN_CHECK_TYPE(defined(), "data() of an undefined tensor");
  ASN_CHECK_TYPE(dtype_ == dtype_of<T>(), "tensor holds {} but was read as {}", dtype_name(dtype_),
                 dtype_name(dtype_of<T>()));
  return static_cast<T*>(storage_->data()) + offset_;
}

template <class T>
Tensor Tensor::from_vector(const Shape& shape, const std::vector<T>& values) {
  ASN_CHECK_SHAPE(static_cast<int64_t>(values.size()) == shape.numel(),
                  "from_vector: {} values for shape {} ({} elements)", values.size(), shape.str(),
                  shape.numel());
  Tensor t = empty(shape, dtype_of<T>(), Device::cpu());
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

}  // namespace asn
