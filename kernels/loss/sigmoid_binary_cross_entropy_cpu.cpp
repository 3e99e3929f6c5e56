// CPU sigmoid binary cross-entropy (kernels/loss/sigmoid_binary_cross_entropy.h): rows split over
// threads by a static partition, each row summed serially in double.
#include <algorithm>

#include "engine/parallel.h"
#include "kernels/loss/sigmoid_binary_cross_entropy.h"
#include "kernels/loss/sigmoid_binary_cross_entropy_math.h"

namespace asn::kernels {

namespace {
int64_t row_grain(int64_t classes) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(classes, 1));
}
}  // namespace

template <class T>
void sigmoid_bce_forward_cpu(const SigmoidBceParams& p, const T* logits, const T* targets,
                             T* row_loss) {
  const int64_t K = p.classes;
  parallel_for(0, p.batch, row_grain(K), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        sum += static_cast<double>(sigmoid_bce_element<T>(logits[b * K + k], targets[b * K + k]));
      }
      row_loss[b] = static_cast<T>(sum);
    }
  });
}

template <class T>
void sigmoid_bce_backward_cpu(const SigmoidBceParams& p, const T* logits, const T* targets,
                              double scale, T* dlogits) {
  const T sc = static_cast<T>(scale);
  parallel_for(0, p.batch * p.classes, int64_t{1} << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dlogits[i] = sigmoid_bce_grad<T>(logits[i], targets[i], sc);
  });
}

template void sigmoid_bce_forward_cpu<float>(const SigmoidBceParams&, const float*, const float*,
                                             float*);
template void sigmoid_bce_forward_cpu<double>(const SigmoidBceParams&, const double*, const double*,
                                              double*);
template void sigmoid_bce_backward_cpu<float>(const SigmoidBceParams&, const float*, const float*,
                                              double, float*);
template void sigmoid_bce_backward_cpu<double>(const SigmoidBceParams&, const double*,
                                               const double*, double, double*);

}  // namespace asn::kernels
