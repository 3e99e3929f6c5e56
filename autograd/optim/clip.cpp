// Gradient clipping and the non-finite check (autograd/optim/clip.h).
#include "autograd/optim/clip.h"

#include <cmath>

#include "kernels/tensor_ops.h"

namespace asn::ag {

namespace {
const Tensor& checked_grads(const char* op, Parameters& params) {
  ASN_CHECK(params.finalized() && params.grads().defined(),
            "{}: the parameters are not finalized (no gradient buffer)", op);
  return params.grads();
}
}  // namespace

double grad_norm(Parameters& params) {
  return std::sqrt(kernels::sum_squares(checked_grads("grad_norm", params)));
}

double clip_grad_norm(Parameters& params, double max_norm) {
  ASN_CHECK(std::isfinite(max_norm) && max_norm > 0,
            "clip_grad_norm: max_norm must be finite and > 0, got {}", max_norm);
  checked_grads("clip_grad_norm", params);
  const double norm = grad_norm(params);
  if (std::isfinite(norm) && norm > max_norm) {
    kernels::scale_inplace(params.grads(), max_norm / (norm + 1e-6));
  }
  return norm;
}

bool grads_finite(Parameters& params) {
  return kernels::all_finite(checked_grads("grads_finite", params));
}

}  // namespace asn::ag
