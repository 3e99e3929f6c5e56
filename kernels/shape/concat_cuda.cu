// CUDA concatenation (see concat.h): one strided row copy per input (copy_rows_cuda), all queued on
// the device's stream.
#include "kernels/shape/concat.h"
#include "kernels/shape/copy_rows.h"

namespace asn::kernels {

template <class T>
void concat_forward_cuda(const std::vector<const T*>& xs, const std::vector<int64_t>& lens,
                         int64_t outer, int64_t inner, T* y, int device) {
  int64_t total = 0;
  for (int64_t n : lens) total += n;
  int64_t off = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    copy_rows_cuda<T>(xs[k], lens[k] * inner, y + off * inner, total * inner, outer,
                      lens[k] * inner, device);
    off += lens[k];
  }
}

template void concat_forward_cuda<float>(const std::vector<const float*>&,
                                         const std::vector<int64_t>&, int64_t, int64_t, float*,
                                         int);
template void concat_forward_cuda<double>(const std::vector<const double*>&,
                                          const std::vector<int64_t>&, int64_t, int64_t, double*,
                                          int);

}  // namespace asn::kernels
