// CPU dropout (kernels/dropout/dropout.h): the mask recomputed from Philox, one call per block of
// four elements.
#include <algorithm>

#include "engine/parallel.h"
#include "kernels/dropout/dropout.h"
#include "kernels/dropout/dropout_math.h"

namespace asn::kernels {

template <class T>
void dropout_apply_cpu(const DropoutParams& p, const T* x, T* y, int64_t n) {
  const float rate = static_cast<float>(p.rate);
  const T scale = static_cast<T>(1.0 / (1.0 - p.rate));
  const int64_t blocks = (n + 3) / 4;
  parallel_for(0, blocks, 1 << 11, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const PhiloxResult bits = dropout_block_bits(p.seed, p.offset, static_cast<uint64_t>(b));
      const int64_t k0 = 4 * b;
      const int lanes = static_cast<int>(std::min<int64_t>(4, n - k0));
      for (int l = 0; l < lanes; ++l) {
        y[k0 + l] = dropout_apply(x[k0 + l], dropout_keep_bits(bits.v[l], rate), scale);
      }
    }
  });
}

template void dropout_apply_cpu<float>(const DropoutParams&, const float*, float*, int64_t);
template void dropout_apply_cpu<double>(const DropoutParams&, const double*, double*, int64_t);

}  // namespace asn::kernels
