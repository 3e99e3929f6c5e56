// Tensor construction, views, copies and casts (CPU side; device copies go through engine/cuda).
#include "engine/tensor.h"

#include <cstring>

#include "engine/parallel.h"

#ifdef ASN_WITH_CUDA
#include "engine/cuda/cuda_runtime.h"
#endif

namespace asn {

namespace {

template <class F>
void dispatch_any(DType t, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(bf16{}); return;
    case DType::i32: f(int32_t{}); return;
    case DType::u8: f(uint8_t{}); return;
  }
}

template <class T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, bf16>) {
    return bf16::from_float(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}
template <class T>
double to_double(T v) {
  if constexpr (std::is_same_v<T, bf16>) {
    return static_cast<double>(v.to_float());
  } else {
    return static_cast<double>(v);
  }
}

[[noreturn, maybe_unused]] void no_cuda(const char* what) {
  ASN_THROW(DeviceError, "{} needs a CUDA device but this build has no CUDA support", what);
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill(value);
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, int64_t offset, const Shape& shape,
                       DType dtype) {
  ASN_CHECK(storage != nullptr, "view_of: null storage");
  const size_t end = static_cast<size_t>(offset + shape.numel()) * dtype_size(dtype);
  ASN_CHECK_SHAPE(offset >= 0 && end <= storage->nbytes(),
                  "view_of: offset {} + shape {} of {} exceeds the storage of {} bytes", offset,
                  shape.str(), dtype_name(dtype), storage->nbytes());
  Tensor t;
  t.storage_ = std::move(storage);
  t.offset_ = offset;
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

void* Tensor::raw_data() const {
  ASN_CHECK_TYPE(defined(), "raw_data() of an undefined tensor");
  return static_cast<char*>(storage_->data()) + static_cast<size_t>(offset_) * dtype_size(dtype_);
}

Tensor Tensor::reshape(const Shape& shape) const {
  ASN_CHECK_SHAPE(shape.numel() == numel(), "cannot reshape {} ({} elements) to {} ({} elements)",
                  shape_.str(), numel(), shape.str(), shape.numel());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::reshape_infer(const std::vector<int64_t>& dims) const {
  std::vector<int64_t> d = dims;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == -1) {
      ASN_CHECK_SHAPE(infer < 0, "reshape of {}: more than one -1 axis", shape_.str());
      infer = static_cast<int>(i);
    } else {
      known *= d[i];
    }
  }
  if (infer >= 0) {
    ASN_CHECK_SHAPE(known > 0 && numel() % known == 0, "cannot reshape {} with a -1 axis into {} parts",
                    shape_.str(), known);
    d[static_cast<size_t>(infer)] = numel() / known;
  }
  return reshape(Shape(d));
}

Tensor Tensor::narrow0(int64_t start, int64_t length) const {
  ASN_CHECK_SHAPE(rank() >= 1 && start >= 0 && length >= 0 && start + length <= shape_[0],
                  "narrow0({}, {}) out of range for shape {}", start, length, shape_.str());
  Tensor t = *this;
  t.offset_ = offset_ + start * shape_.prod(1, rank());
  t.shape_[0] = length;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_, device());
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor t = empty(shape_, dtype_, d);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype_) return *this;
  if (!device().is_cpu()) {
#ifdef ASN_WITH_CUDA
    Tensor t = empty(shape_, dt, device());
    cuda::cast(raw_data(), dtype_, t.raw_data(), dt, numel(), device().index);
    return t;
#else
    no_cuda("a cast");
#endif
  }
  Tensor t = empty(shape_, dt, Device::cpu());
  const int64_t n = numel();
  dispatch_any(dtype_, [&](auto src_tag) {
    using S = decltype(src_tag);
    const S* s = data<S>();
    dispatch_any(dt, [&](auto dst_tag) {
      using D = decltype(dst_tag);
      D* o = t.data<D>();
      if constexpr (std::is_same_v<S, bf16> || std::is_same_v<D, bf16>) {
        for (int64_t i = 0; i < n; ++i) o[i] = from_double<D>(to_double(s[i]));
      } else {
        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<D>(s[i]);
      }
    });
  });
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  ASN_CHECK_SHAPE(src.numel() == numel(), "copy_from: {} into {}", describe(src), describe(*this));
  ASN_CHECK_TYPE(src.dtype() == dtype_, "copy_from: {} into {} (dtypes differ; use to(dtype))",
                 describe(src), describe(*this));
  if (nbytes() == 0) return;
  if (device().is_cpu() && src.device().is_cpu()) {
    if (raw_data() != src.raw_data()) std::memcpy(raw_data(), src.raw_data(), nbytes());
    return;
  }
#ifdef ASN_WITH_CUDA
  cuda::copy(raw_data(), device(), src.raw_data(), src.device(), nbytes());
#else
  no_cuda("copy_from");
#endif
}

void Tensor::fill(double value) {
  if (numel() == 0) return;
  if (!device().is_cpu()) {
#ifdef ASN_WITH_CUDA
    cuda::fill(raw_data(), dtype_, numel(), value, device().index);
    return;
#else
    no_cuda("fill");
#endif
  }
  dispatch_any(dtype_, [&](auto tag) {
    using T = decltype(tag);
    T* p = data<T>();
    const T v = from_double<T>(value);
    const int64_t n = numel();
    parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
}

void Tensor::zero() {
  if (numel() == 0) return;
  if (!device().is_cpu()) {
#ifdef ASN_WITH_CUDA
    cuda::memset_zero(raw_data(), nbytes(), device().index);
    return;
#else
    no_cuda("zero");
#endif
  }
  std::memset(raw_data(), 0, nbytes());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = device().is_cpu() ? *this : to(Device::cpu());
  std::vector<T> out(static_cast<size_t>(numel()));
  dispatch_any(dtype_, [&](auto tag) {
    using S = decltype(tag);
    const S* s = c.data<S>();
    for (size_t i = 0; i < out.size(); ++i) {
      if constexpr (std::is_same_v<T, bf16>) {
        out[i] = bf16::from_float(static_cast<float>(to_double(s[i])));
      } else {
        out[i] = static_cast<T>(to_double(s[i]));
      }
    }
  });
  return out;
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

double Tensor::item() const {
  ASN_CHECK_SHAPE(numel() == 1, "item() of {} which has {} elements", describe(*this), numel());
  return to_vector<double>()[0];
}

std::string Tensor::str() const { return "Tensor(" + describe(*this) + ")"; }

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return fmt::format("{} {} on {}", dtype_name(t.dtype()), t.shape().str(), t.device().str());
}

}  // namespace asn
