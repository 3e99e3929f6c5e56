// CPU slice and its zero-filling backward (see slice.h).
#include "kernels/shape/copy_rows.h"
#include "kernels/shape/slice.h"

namespace asn::kernels {

template <class T>
void slice_forward_cpu(const T* x, int64_t outer, int64_t len, int64_t inner, int64_t start,
                       int64_t count, T* y) {
  copy_rows_cpu(x + start * inner, len * inner, y, count * inner, outer, count * inner);
}

template <class T>
void slice_backward_cpu(const T* gy, int64_t outer, int64_t len, int64_t inner, int64_t start,
                        int64_t count, T* gx) {
  // Each row of gx: zeros before the slice, the slice, zeros after.
  zero_rows_cpu(gx, len * inner, outer, start * inner);
  zero_rows_cpu(gx + (start + count) * inner, len * inner, outer, (len - start - count) * inner);
  copy_rows_cpu(gy, count * inner, gx + start * inner, len * inner, outer, count * inner);
}

template void slice_forward_cpu<float>(const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                       float*);
template void slice_forward_cpu<double>(const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        double*);
template void slice_backward_cpu<float>(const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        float*);
template void slice_backward_cpu<double>(const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                         double*);

}  // namespace asn::kernels
