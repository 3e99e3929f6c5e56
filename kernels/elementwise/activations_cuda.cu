// CUDA activations (kernels/elementwise/activations.h): relu and sigmoid as vectorised elementwise
// maps over the shared arithmetic of activations_math.h; softmax with one warp per row.
#include <algorithm>

#include "kernels/elementwise/activations.h"
#include "kernels/elementwise/activations_math.h"
#include "kernels/elementwise/map_cuda.cuh"

namespace asn::kernels {

namespace {

struct ReluForward {
  template <class T>
  __device__ T operator()(T x) const {
    return relu_value(x);
  }
};
struct ReluBackward {
  template <class T>
  __device__ T operator()(T dy, T y) const {
    return relu_grad(dy, y);
  }
};
struct SigmoidForward {
  template <class T>
  __device__ T operator()(T x) const {
    return sigmoid_value(x);
  }
};
struct SigmoidBackward {
  template <class T>
  __device__ T operator()(T dy, T y) const {
    return sigmoid_grad(dy, y);
  }
};

constexpr int kWarpsPerBlock = cuda::kBlock / 32;

// Butterfly reductions over a warp: every lane ends with the same, order-fixed result.
template <class T>
__device__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, v, o);
    v = other > v ? other : v;
  }
  return v;
}
__device__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per row (rows strided by the number of warps in the grid); lanes stride over the row.
template <class T>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + (threadIdx.x >> 5); r < rows;
       r += warps) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = xr[0];
    for (int64_t j = lane; j < cols; j += 32) m = xr[j] > m ? xr[j] : m;
    m = warp_max(m);
    double s = 0;
    for (int64_t j = lane; j < cols; j += 32) {
      const T e = softmax_exp(xr[j], m);
      yr[j] = e;
      s += static_cast<double>(e);
    }
    const double inv = 1.0 / warp_sum(s);
    for (int64_t j = lane; j < cols; j += 32) yr[j] = softmax_normalise(yr[j], inv);
  }
}

template <class T>
__global__ void softmax_backward_kernel(const T* dy, const T* y, T* dx, int64_t rows,
                                        int64_t cols) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + (threadIdx.x >> 5); r < rows;
       r += warps) {
    const T* dyr = dy + r * cols;
    const T* yr = y + r * cols;
    T* dxr = dx + r * cols;
    double dot = 0;
    for (int64_t j = lane; j < cols; j += 32) {
      dot += static_cast<double>(dyr[j]) * static_cast<double>(yr[j]);
    }
    dot = warp_sum(dot);
    for (int64_t j = lane; j < cols; j += 32) dxr[j] = softmax_grad_value(dyr[j], yr[j], dot);
  }
}

int softmax_grid(int64_t rows) { return cuda::grid_1d(rows, kWarpsPerBlock); }

}  // namespace

template <class T>
void relu_forward_cuda(const T* x, T* y, int64_t n, int device) {
  cuda::launch_map1("relu", x, y, n, ReluForward{}, device);
}

template <class T>
void relu_backward_cuda(const T* dy, const T* y, T* dx, int64_t n, int device) {
  cuda::launch_map2("relu", dy, y, dx, n, ReluBackward{}, device);
}

template <class T>
void sigmoid_forward_cuda(const T* x, T* y, int64_t n, int device) {
  cuda::launch_map1("sigmoid", x, y, n, SigmoidForward{}, device);
}

template <class T>
void sigmoid_backward_cuda(const T* dy, const T* y, T* dx, int64_t n, int device) {
  cuda::launch_map2("sigmoid", dy, y, dx, n, SigmoidBackward{}, device);
}

template <class T>
void softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, int device) {
  if (rows == 0 || cols == 0) return;
  asn::cuda::set_device(device);
  softmax_forward_kernel<T>
      <<<softmax_grid(rows), cuda::kBlock, 0, asn::cuda::stream(device)>>>(x, y, rows, cols);
  ASN_KERNEL_CHECK("softmax");
}

template <class T>
void softmax_backward_cuda(const T* dy, const T* y, T* dx, int64_t rows, int64_t cols, int device) {
  if (rows == 0 || cols == 0) return;
  asn::cuda::set_device(device);
  softmax_backward_kernel<T>
      <<<softmax_grid(rows), cuda::kBlock, 0, asn::cuda::stream(device)>>>(dy, y, dx, rows, cols);
  ASN_KERNEL_CHECK("softmax");
}

#define ASN_INSTANTIATE(T)                                                      \
  template void relu_forward_cuda<T>(const T*, T*, int64_t, int);               \
  template void relu_backward_cuda<T>(const T*, const T*, T*, int64_t, int);    \
  template void sigmoid_forward_cuda<T>(const T*, T*, int64_t, int);            \
  template void sigmoid_backward_cuda<T>(const T*, const T*, T*, int64_t, int); \
  template void softmax_forward_cuda<T>(const T*, T*, int64_t, int64_t, int);   \
  template void softmax_backward_cuda<T>(const T*, const T*, T*, int64_t, int64_t, int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
