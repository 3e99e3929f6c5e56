// Tolerance checks for tests (policy: docs/testing.md).
//
// expect_close compares two tensors elementwise with |a - b| <= atol + rtol * |b| (b is the
// reference) and, on failure, reports the worst element, both values and how much of the tolerance
// it used. expect_close_nmse adds the aggregate normalised mean squared error used for reductions
// and convolutions.
#pragma once

#include <string>

#include "engine/tensor.h"

namespace asn::test {

struct CloseResult {
  bool ok = true;
  double worst_ratio = 0;  // max |a-b| / (atol + rtol |b|); ok when <= 1
  double max_abs = 0;
  int64_t worst_index = -1;
  double nmse = 0;         // sum (a-b)^2 / sum b^2
  std::string report;
};

CloseResult compare(const Tensor& actual, const Tensor& reference, double rtol, double atol);

// Largest |value| of a tensor on any device (read as double): the scale of an absolute tolerance.
double max_abs(const Tensor& t);

}  // namespace asn::test

// Catch2 assertion with a readable failure message.
#define ASN_REQUIRE_CLOSE(actual, reference, rtol, atol)                                  \
  do {                                                                                    \
    auto asn_cmp_ = ::asn::test::compare((actual), (reference), (rtol), (atol));          \
    INFO(asn_cmp_.report);                                                                \
    REQUIRE(asn_cmp_.ok);                                                                 \
  } while (0)
