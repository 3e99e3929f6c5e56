// CPU activations (kernels/elementwise/activations.h): one parallel_for over elements or rows.
#include <algorithm>

#include "engine/parallel.h"
#include "kernels/elementwise/activations.h"
#include "kernels/elementwise/activations_math.h"

namespace asn::kernels {

namespace {
constexpr int64_t kGrain = 1 << 15;  // elements per chunk below which a loop runs serially
}

template <class T>
void relu_forward_cpu(const T* x, T* y, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = relu_value(x[i]);
  });
}

template <class T>
void relu_backward_cpu(const T* dy, const T* y, T* dx, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = relu_grad(dy[i], y[i]);
  });
}

template <class T>
void sigmoid_forward_cpu(const T* x, T* y, int64_t n) {
  parallel_for(0, n, kGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = sigmoid_value(x[i]);
  });
}

template <class T>
void sigmoid_backward_cpu(const T* dy, const T* y, T* dx, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = sigmoid_grad(dy[i], y[i]);
  });
}

template <class T>
void softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols) {
  const int64_t grain = std::max<int64_t>(1, kGrain / 8 / std::max<int64_t>(cols, 1));
  parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) softmax_row<T, double>(x + r * cols, y + r * cols, cols);
  });
}

template <class T>
void softmax_backward_cpu(const T* dy, const T* y, T* dx, int64_t rows, int64_t cols) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1));
  parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      softmax_grad_row<T, double>(dy + r * cols, y + r * cols, dx + r * cols, cols);
    }
  });
}

#define ASN_INSTANTIATE(T)                                                \
  template void relu_forward_cpu<T>(const T*, T*, int64_t);               \
  template void relu_backward_cpu<T>(const T*, const T*, T*, int64_t);    \
  template void sigmoid_forward_cpu<T>(const T*, T*, int64_t);            \
  template void sigmoid_backward_cpu<T>(const T*, const T*, T*, int64_t); \
  template void softmax_forward_cpu<T>(const T*, T*, int64_t, int64_t);   \
  template void softmax_backward_cpu<T>(const T*, const T*, T*, int64_t, int64_t);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
