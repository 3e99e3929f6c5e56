// CPU concatenation (see concat.h): one strided row copy per input.
#include "kernels/shape/concat.h"
#include "kernels/shape/copy_rows.h"

namespace asn::kernels {

template <class T>
void concat_forward_cpu(const std::vector<const T*>& xs, const std::vector<int64_t>& lens,
                        int64_t outer, int64_t inner, T* y) {
  int64_t total = 0;
  for (int64_t n : lens) total += n;
  int64_t off = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    copy_rows_cpu(xs[k], lens[k] * inner, y + off * inner, total * inner, outer, lens[k] * inner);
    off += lens[k];
  }
}

template void concat_forward_cpu<float>(const std::vector<const float*>&,
                                        const std::vector<int64_t>&, int64_t, int64_t, float*);
template void concat_forward_cpu<double>(const std::vector<const double*>&,
                                         const std::vector<int64_t>&, int64_t, int64_t, double*);

}  // namespace asn::kernels
