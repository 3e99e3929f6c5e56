// Direct 3-D convolution kernels (see conv3d_direct.h).
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_runtime.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/conv/conv3d_direct.h"

namespace asn::kernels {

namespace {

// Sizes and parameters as plain values for the kernels.
struct DirectGeom {
  int64_t N, Cin, Cout;
  int64_t in[3], k[3], out[3], stride[3], dilation[3], before[3];
};

DirectGeom make(const Shape& xs, const Shape& ws, const Conv3dParams& p) {
  const Shape ys = p.output_shape(xs, ws);
  DirectGeom g{};
  g.N = xs[0];
  g.Cin = xs[4];
  g.Cout = ws[0];
  for (int a = 0; a < 3; ++a) {
    g.in[a] = xs[1 + a];
    g.k[a] = ws[1 + a];
    g.out[a] = ys[1 + a];
    g.stride[a] = p.stride[a];
    g.dilation[a] = p.dilation[a];
    g.before[a] = p.pad[a].before;
  }
  return g;
}

template <class T>
__global__ void forward_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, DirectGeom g,
                               int64_t total) {
  ASN_GRID_STRIDE_LOOP(idx, total) {
    int64_t r = idx;
    const int64_t co = r % g.Cout;
    r /= g.Cout;
    int64_t o[3];
    for (int a = 2; a >= 0; --a) {
      o[a] = r % g.out[a];
      r /= g.out[a];
    }
    const int64_t n = r;
    T acc = T(0);
    for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
      const int64_t i0 = o[0] * g.stride[0] - g.before[0] + k0 * g.dilation[0];
      if (i0 < 0 || i0 >= g.in[0]) continue;
      for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
        const int64_t i1 = o[1] * g.stride[1] - g.before[1] + k1 * g.dilation[1];
        if (i1 < 0 || i1 >= g.in[1]) continue;
        for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
          const int64_t i2 = o[2] * g.stride[2] - g.before[2] + k2 * g.dilation[2];
          if (i2 < 0 || i2 >= g.in[2]) continue;
          const T* xp = x + (((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.Cin;
          const T* wp = w + (((co * g.k[0] + k0) * g.k[1] + k1) * g.k[2] + k2) * g.Cin;
          for (int64_t ci = 0; ci < g.Cin; ++ci) acc += xp[ci] * wp[ci];
        }
      }
    }
    y[idx] = acc;
  }
}

template <class T>
__global__ void backward_data_kernel(const T* __restrict__ dy, const T* __restrict__ w, T* __restrict__ dx,
                                     DirectGeom g, int64_t total) {
  ASN_GRID_STRIDE_LOOP(idx, total) {
    int64_t r = idx;
    const int64_t ci = r % g.Cin;
    r /= g.Cin;
    int64_t i[3];
    for (int a = 2; a >= 0; --a) {
      i[a] = r % g.in[a];
      r /= g.in[a];
    }
    const int64_t n = r;
    T acc = T(0);
    for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
      const int64_t t0 = i[0] + g.before[0] - k0 * g.dilation[0];
      if (t0 < 0 || t0 % g.stride[0] != 0 || t0 / g.stride[0] >= g.out[0]) continue;
      const int64_t o0 = t0 / g.stride[0];
      for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
        const int64_t t1 = i[1] + g.before[1] - k1 * g.dilation[1];
        if (t1 < 0 || t1 % g.stride[1] != 0 || t1 / g.stride[1] >= g.out[1]) continue;
        const int64_t o1 = t1 / g.stride[1];
        for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
          const int64_t t2 = i[2] + g.before[2] - k2 * g.dilation[2];
          if (t2 < 0 || t2 % g.stride[2] != 0 || t2 / g.stride[2] >= g.out[2]) continue;
          const int64_t o2 = t2 / g.stride[2];
          const T* dyp = dy + (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2) * g.Cout;
          const int64_t wk = ((k0 * g.k[1] + k1) * g.k[2] + k2) * g.Cin + ci;
          const int64_t wstride = g.k[0] * g.k[1] * g.k[2] * g.Cin;
          for (int64_t co = 0; co < g.Cout; ++co) acc += dyp[co] * w[co * wstride + wk];
        }
      }
    }
    dx[idx] = acc;
  }
}

template <class T>
__global__ void backward_weight_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dw,
                                       DirectGeom g, int64_t total) {
  ASN_GRID_STRIDE_LOOP(idx, total) {
    int64_t r = idx;
    const int64_t ci = r % g.Cin;
    r /= g.Cin;
    int64_t k[3];
    for (int a = 2; a >= 0; --a) {
      k[a] = r % g.k[a];
      r /= g.k[a];
    }
    const int64_t co = r;
    T acc = T(0);
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
        const int64_t i0 = o0 * g.stride[0] - g.before[0] + k[0] * g.dilation[0];
        if (i0 < 0 || i0 >= g.in[0]) continue;
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
          const int64_t i1 = o1 * g.stride[1] - g.before[1] + k[1] * g.dilation[1];
          if (i1 < 0 || i1 >= g.in[1]) continue;
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            const int64_t i2 = o2 * g.stride[2] - g.before[2] + k[2] * g.dilation[2];
            if (i2 < 0 || i2 >= g.in[2]) continue;
            acc += x[(((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.Cin + ci] *
                   dy[(((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2) * g.Cout + co];
          }
        }
      }
    }
    dw[idx] = acc;
  }
}

}  // namespace

template <class T>
void conv3d_direct_forward_cuda(const T* x, const Shape& xs, const T* w, const Shape& ws, const Conv3dParams& p,
                                T* y, int device) {
  const DirectGeom g = make(xs, ws, p);
  const int64_t total = g.N * g.out[0] * g.out[1] * g.out[2] * g.Cout;
  if (total == 0) return;
  asn::cuda::set_device(device);
  forward_kernel<T><<<cuda::grid_1d(total), cuda::kBlock, 0, asn::cuda::stream(device)>>>(x, w, y, g, total);
  ASN_KERNEL_CHECK("conv3d");
}

template <class T>
void conv3d_direct_backward_data_cuda(const T* dy, const Shape& xs, const T* w, const Shape& ws,
                                      const Conv3dParams& p, T* dx, int device) {
  const DirectGeom g = make(xs, ws, p);
  const int64_t total = xs.numel();
  if (total == 0) return;
  asn::cuda::set_device(device);
  backward_data_kernel<T><<<cuda::grid_1d(total), cuda::kBlock, 0, asn::cuda::stream(device)>>>(dy, w, dx, g, total);
  ASN_KERNEL_CHECK("conv3d");
}

template <class T>
void conv3d_direct_backward_weight_cuda(const T* x, const Shape& xs, const T* dy, const Shape& ws,
                                        const Conv3dParams& p, T* dw, int device) {
  const DirectGeom g = make(xs, ws, p);
  const int64_t total = ws.numel();
  if (total == 0) return;
  asn::cuda::set_device(device);
  backward_weight_kernel<T><<<cuda::grid_1d(total), cuda::kBlock, 0, asn::cuda::stream(device)>>>(x, dy, dw, g, total);
  ASN_KERNEL_CHECK("conv3d");
}

#define ASN_INSTANTIATE(T)                                                                                 \
  template void conv3d_direct_forward_cuda<T>(const T*, const Shape&, const T*, const Shape&, const Conv3dParams&, \
                                              T*, int);                                                    \
  template void conv3d_direct_backward_data_cuda<T>(const T*, const Shape&, const T*, const Shape&,        \
                                                    const Conv3dParams&, T*, int);                         \
  template void conv3d_direct_backward_weight_cuda<T>(const T*, const Shape&, const T*, const Shape&,      \
                                                      const Conv3dParams&, T*, int);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
