// gated_sum geometry: the reference's resize rule and the validation of a call (see gated_sum.h).
#include "kernels/fusion/gated_sum.h"

#include <fmt/format.h>

#include <limits>

#include "engine/error.h"
#include "kernels/common/padding.h"

namespace asn::kernels {

GatedSumInput gated_sum_resize(int64_t H, int64_t W, int64_t Hs, int64_t Ws) {
  GatedSumInput in;
  in.H = H;
  in.W = W;
  if (H == Hs && W == Ws) return in;  // identity: r = 1, no padding
  in.r = Hs >= 1 ? (H + 1) / Hs : 0;  // the reference uses H only, for both axes
  if (in.r >= 1) {
    in.pad_h = same_padding(H, in.r, in.r, 1).before;
    in.pad_w = same_padding(W, in.r, in.r, 1).before;
  }
  return in;
}

GatedSumGeometry make_gated_sum_geometry(const char* op, const std::vector<Tensor>& xs, int64_t Hs,
                                         int64_t Ws, int64_t num_weights,
                                         const std::vector<int64_t>& weight_index) {
  ASN_CHECK(!xs.empty(), "{}: needs at least one input, got none", op);
  ASN_CHECK(Hs >= 1 && Ws >= 1, "{}: the target size {}x{} must be at least 1x1 (xs[0] is {})", op,
            Hs, Ws, describe(xs[0]));
  ASN_CHECK(num_weights >= 1, "{}: the weight vector is empty ({} inputs)", op, xs.size());
  ASN_CHECK(weight_index.empty() || weight_index.size() == xs.size(),
            "{}: {} weight indices for {} inputs", op, weight_index.size(), xs.size());
  GatedSumGeometry g;
  g.Hs = Hs;
  g.Ws = Ws;
  g.num_weights = num_weights;
  for (size_t j = 0; j < xs.size(); ++j) {
    const Shape& s = xs[j].shape();
    const std::string dj = describe(xs[j]);
    ASN_CHECK_SHAPE(s.rank() == 5, "{}: xs[{}] must have rank 5 (N, T, H, W, C), got {}", op, j,
                    dj);
    if (j == 0) {
      g.N = s[0];
      g.T = s[1];
      g.C = s[4];
    }
    ASN_CHECK_SHAPE(s[0] == g.N && s[1] == g.T && s[4] == g.C,
                    "{}: xs[{}] {} and xs[0] {} differ in N, T or C", op, j, dj, describe(xs[0]));
    ASN_CHECK_SHAPE(s[0] >= 1 && s[1] >= 1 && s[4] >= 1, "{}: xs[{}] {} is empty", op, j, dj);
    ASN_CHECK_SHAPE(s[2] >= Hs && s[3] >= Ws,
                    "{}: xs[{}] {} is smaller than the target size {}x{} (inputs are only pooled "
                    "down)",
                    op, j, dj, Hs, Ws);
    ASN_CHECK_SHAPE(s[2] * s[3] <= std::numeric_limits<int32_t>::max(),
                    "{}: xs[{}] {} has more than 2^31 positions per frame", op, j, dj);
    GatedSumInput in = gated_sum_resize(s[2], s[3], Hs, Ws);
    const int64_t ho = (in.H + in.r - 1) / in.r, wo = (in.W + in.r - 1) / in.r;
    ASN_CHECK_SHAPE(ho == Hs && wo == Ws,
                    "{}: xs[{}] {} resized by the reference's rule (window = stride = (H + 1) / Hs "
                    "= {}, SAME) gives {}x{}, not the target size {}x{}",
                    op, j, dj, in.r, ho, wo, Hs, Ws);
    const int64_t k = weight_index.empty() ? static_cast<int64_t>(j) : weight_index[j];
    ASN_CHECK(k >= 0 && k < num_weights,
              "{}: xs[{}] {} uses weight {}, outside the weight vector ({} elements)", op, j, dj, k,
              num_weights);
    in.weight_index = k;
    g.inputs.push_back(in);
  }
  return g;
}

}  // namespace asn::kernels
