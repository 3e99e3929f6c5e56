// CUDA slice (see slice.h): forward is one strided row copy; backward writes each gx row as zeros,
// the gradient row, zeros, in a single pass (embed_rows_cuda).
#include "kernels/shape/copy_rows.h"
#include "kernels/shape/slice.h"

namespace asn::kernels {

template <class T>
void slice_forward_cuda(const T* x, int64_t outer, int64_t len, int64_t inner, int64_t start,
                        int64_t count, T* y, int device) {
  copy_rows_cuda<T>(x + start * inner, len * inner, y, count * inner, outer, count * inner, device);
}

template <class T>
void slice_backward_cuda(const T* gy, int64_t outer, int64_t len, int64_t inner, int64_t start,
                         int64_t count, T* gx, int device) {
  embed_rows_cuda<T>(gy, count * inner, gx, len * inner, start * inner, outer, device);
}

template void slice_forward_cuda<float>(const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        float*, int);
template void slice_forward_cuda<double>(const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                         double*, int);
template void slice_backward_cuda<float>(const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                         float*, int);
template void slice_backward_cuda<double>(const double*, int64_t, int64_t, int64_t, int64_t,
                                          int64_t, double*, int);

}  // namespace asn::kernels
