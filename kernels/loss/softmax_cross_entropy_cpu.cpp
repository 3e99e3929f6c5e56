// CPU softmax cross-entropy (kernels/loss/softmax_cross_entropy.h): one row per work item, rows
// split over threads by a static partition; every row is reduced serially, sums in double.
#include <algorithm>
#include <cmath>

#include "engine/parallel.h"
#include "kernels/loss/softmax_cross_entropy.h"
#include "kernels/loss/softmax_cross_entropy_math.h"

namespace asn::kernels {

namespace {

// Rows per thread chunk: about 32k logits of work each.
int64_t row_grain(int64_t classes) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(classes, 1));
}

// Smoothed target of element (b, k) from either representation.
template <class T>
T target_at(const SoftmaxCrossEntropyParams& p, const int32_t* labels, const T* targets, int64_t b,
            int64_t k) {
  const T s = static_cast<T>(p.label_smoothing);
  if (labels != nullptr) return sce_label_target<T>(k, labels[b], s, p.classes);
  return sce_smoothed_target<T>(targets[b * p.classes + k], s, p.classes);
}

}  // namespace

template <class T>
void softmax_cross_entropy_forward_cpu(const SoftmaxCrossEntropyParams& p, const T* logits,
                                       const int32_t* labels, const T* targets, T* row_loss,
                                       T* row_lse) {
  const int64_t K = p.classes;
  parallel_for(0, p.batch, row_grain(K), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* z = logits + b * K;
      T m = z[0];
      for (int64_t k = 1; k < K; ++k) m = std::max(m, z[k]);
      double sum_exp = 0;
      for (int64_t k = 0; k < K; ++k) sum_exp += static_cast<double>(std::exp(z[k] - m));
      const double lse = static_cast<double>(m) + std::log(sum_exp);
      double loss = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double t = static_cast<double>(target_at<T>(p, labels, targets, b, k));
        loss += t * (lse - static_cast<double>(z[k]));
      }
      row_loss[b] = static_cast<T>(loss);
      row_lse[b] = static_cast<T>(lse);
    }
  });
}

template <class T>
void softmax_cross_entropy_backward_cpu(const SoftmaxCrossEntropyParams& p, const T* logits,
                                        const int32_t* labels, const T* targets, const T* row_lse,
                                        double scale, T* dlogits) {
  const int64_t K = p.classes;
  const T sc = static_cast<T>(scale);
  parallel_for(0, p.batch, row_grain(K), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      // One-hot targets sum to 1 after smoothing; dense targets are summed as given.
      T target_sum = T(1);
      if (labels == nullptr) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) {
          s += static_cast<double>(target_at<T>(p, labels, targets, b, k));
        }
        target_sum = static_cast<T>(s);
      }
      const T* z = logits + b * K;
      T* dz = dlogits + b * K;
      for (int64_t k = 0; k < K; ++k) {
        const T t = target_at<T>(p, labels, targets, b, k);
        dz[k] = sce_grad<T>(z[k], row_lse[b], t, target_sum, sc);
      }
    }
  });
}

template void softmax_cross_entropy_forward_cpu<float>(const SoftmaxCrossEntropyParams&,
                                                       const float*, const int32_t*, const float*,
                                                       float*, float*);
template void softmax_cross_entropy_forward_cpu<double>(const SoftmaxCrossEntropyParams&,
                                                        const double*, const int32_t*,
                                                        const double*, double*, double*);
template void softmax_cross_entropy_backward_cpu<float>(const SoftmaxCrossEntropyParams&,
                                                        const float*, const int32_t*, const float*,
                                                        const float*, double, float*);
template void softmax_cross_entropy_backward_cpu<double>(const SoftmaxCrossEntropyParams&,
                                                         const double*, const int32_t*,
                                                         const double*, const double*, double,
                                                         double*);

}  // namespace asn::kernels
