// Finite-difference gradient checker (f64, central differences), used by the tests.
//
// For a function f of some inputs, the checker draws a fixed random projection r of f's output and
// compares d<r, f(x)>/dx from the tape against (<r, f(x + eps e_i)> - <r, f(x - eps e_i)>) / (2 eps)
// for every element i of every checked input. An element passes when
// |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|). The report names the worst
// element, both values and how much of the tolerance it used.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace asn::ag {

struct GradcheckOptions {
  double eps = 1e-6;
  double rtol = 1e-6;
  double atol = 1e-8;
  uint64_t seed = 1234;        // for the output projection
  std::vector<bool> check;     // which inputs to check (empty: all)
  // When > 0, check at most this many elements of each tensor (evenly spaced, always including the
  // first and last), for models too large to difference every element.
  int64_t max_elements_per_tensor = 0;
};

struct GradcheckResult {
  bool ok = true;
  double worst_ratio = 0;  // max over elements of |a - n| / (atol + rtol * max(|a|, |n|)); ok <= 1
  std::string report;      // human-readable summary, names the worst element
};

using GradcheckFn = std::function<Variable(const std::vector<Variable>& inputs)>;

// Inputs must be f64 CPU tensors; f must use only differentiable ops on them. The inputs are not
// modified (copies are perturbed).
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

// Same, where some parameters of a model are checked too: `params` are Variables the function
// closes over (e.g. views into a Parameters buffer); they are perturbed in place and restored.
GradcheckResult gradcheck_with_params(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                      const std::vector<Variable>& params,
                                      const GradcheckOptions& options = {});

}  // namespace asn::ag
