// CPU implementations of kernels/tensor_ops.h (OpenMP over a static partition: deterministic for a
// given thread count).
#include <cmath>
#include <vector>

#include "engine/parallel.h"
#include "kernels/tensor_ops.h"

namespace asn::kernels {

namespace {

void check_pair(const char* op, const Tensor& dst, const Tensor& src) {
  ASN_CHECK_SHAPE(dst.numel() == src.numel(), "{}: {} and {} differ in size", op, describe(dst),
                  describe(src));
  ASN_CHECK_TYPE(dst.dtype() == src.dtype() && dst.device() == src.device(),
                 "{}: {} and {} differ in dtype or device", op, describe(dst), describe(src));
}

template <class F>
void dispatch_float(const char* op, const Tensor& t, F&& f) {
  if (t.dtype() == DType::f32) {
    f(float{});
  } else if (t.dtype() == DType::f64) {
    f(double{});
  } else {
    ASN_THROW(TypeError, "{}: needs an f32 or f64 tensor, got {}", op, describe(t));
  }
}

template <class T, class F>
double reduce_double(const T* p, int64_t n, F&& term) {
  // One partial sum per chunk, combined in chunk order: deterministic for a given thread count.
  const int threads = num_threads();
  std::vector<double> partial(static_cast<size_t>(threads), 0.0);
  const int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, n / 4096));
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t lo = n * c / chunks, hi = n * (c + 1) / chunks;
      double s = 0;
      for (int64_t i = lo; i < hi; ++i) s += term(static_cast<double>(p[i]));
      partial[static_cast<size_t>(c)] = s;
    }
  });
  double s = 0;
  for (int64_t c = 0; c < chunks; ++c) s += partial[static_cast<size_t>(c)];
  return s;
}

}  // namespace

void add_inplace(Tensor& dst, const Tensor& src) { axpy_inplace(dst, 1.0, src); }

void axpy_inplace(Tensor& dst, double alpha, const Tensor& src) {
  check_pair("axpy", dst, src);
  if (dst.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    cuda::axpy_inplace(dst, alpha, src);
    return;
#endif
  }
  dispatch_float("axpy", dst, [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T* s = src.data<T>();
    const T a = static_cast<T>(alpha);
    parallel_for(0, dst.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      if (alpha == 1.0) {
        for (int64_t i = b; i < e; ++i) d[i] += s[i];
      } else {
        for (int64_t i = b; i < e; ++i) d[i] += a * s[i];
      }
    });
  });
}

void scale_inplace(Tensor& dst, double alpha) {
  if (dst.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    cuda::scale_inplace(dst, alpha);
    return;
#endif
  }
  dispatch_float("scale", dst, [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T a = static_cast<T>(alpha);
    parallel_for(0, dst.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] *= a;
    });
  });
}

double sum_squares(const Tensor& t) {
  if (t.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    return cuda::sum_squares(t);
#endif
  }
  double r = 0;
  dispatch_float("sum_squares", t, [&](auto tag) {
    using T = decltype(tag);
    r = reduce_double(t.data<T>(), t.numel(), [](double v) { return v * v; });
  });
  return r;
}

double sum_all(const Tensor& t) {
  if (t.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    return cuda::sum_all(t);
#endif
  }
  double r = 0;
  dispatch_float("sum_all", t, [&](auto tag) {
    using T = decltype(tag);
    r = reduce_double(t.data<T>(), t.numel(), [](double v) { return v; });
  });
  return r;
}

bool all_finite(const Tensor& t) {
  if (t.device().is_cuda()) {
#ifdef ASN_WITH_CUDA
    return cuda::all_finite(t);
#endif
  }
  double bad = 0;
  dispatch_float("all_finite", t, [&](auto tag) {
    using T = decltype(tag);
    bad = reduce_double(t.data<T>(), t.numel(), [](double v) { return std::isfinite(v) ? 0.0 : 1.0; });
  });
  return bad == 0;
}

}  // namespace asn::kernels
