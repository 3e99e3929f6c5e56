// Tensor comparison with a worst-element report.
#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace asn::test {

CloseResult compare(const Tensor& actual, const Tensor& reference, double rtol, double atol) {
  CloseResult r;
  if (actual.shape() != reference.shape()) {
    r.ok = false;
    r.report = fmt::format("shape mismatch: actual {} vs reference {}", actual.shape().str(),
                           reference.shape().str());
    return r;
  }
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> b = reference.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::fabs(a[i] - b[i]);
    double ratio = diff / (atol + rtol * std::fabs(b[i]));
    if (std::isnan(a[i]) != std::isnan(b[i]) || (std::isnan(diff) && !std::isnan(b[i]))) ratio = INFINITY;
    if (std::isnan(a[i]) && std::isnan(b[i])) ratio = 0;
    if (ratio > r.worst_ratio || (std::isinf(ratio) && r.worst_index < 0)) {
      r.worst_ratio = ratio;
      r.worst_index = static_cast<int64_t>(i);
    }
    r.max_abs = std::max(r.max_abs, std::isnan(diff) ? 0.0 : diff);
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  r.nmse = den > 0 ? num / den : num;
  r.ok = r.worst_ratio <= 1.0;
  if (r.worst_index >= 0) {
    const size_t w = static_cast<size_t>(r.worst_index);
    r.report = fmt::format(
        "{}: {} elements of {}; worst element {} actual {:.9g} reference {:.9g} used {:.1f}% of the "
        "tolerance (rtol {}, atol {}); max abs error {:.3g}; nmse {:.3g}",
        r.ok ? "close" : "NOT CLOSE", a.size(), actual.shape().str(), w, a[w], b[w],
        100.0 * r.worst_ratio, rtol, atol, r.max_abs, r.nmse);
  } else {
    r.report = fmt::format("identical ({} elements)", a.size());
  }
  return r;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace asn::test
