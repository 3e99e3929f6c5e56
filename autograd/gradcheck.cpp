// Central-difference gradient checking in double precision.
#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/tape.h"
#include "engine/rng.h"

namespace asn::ag {

namespace {

double project(const Tensor& out, const Tensor& r) {
  const double* o = out.data<double>();
  const double* w = r.data<double>();
  double s = 0;
  for (int64_t i = 0; i < out.numel(); ++i) s += o[i] * w[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck_with_params(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                      const std::vector<Variable>& params,
                                      const GradcheckOptions& opt) {
  for (const Tensor& t : inputs) {
    ASN_CHECK_TYPE(t.dtype() == DType::f64 && t.device().is_cpu(),
                   "gradcheck needs f64 CPU inputs, got {}", describe(t));
  }
  for (const Variable& p : params) {
    ASN_CHECK_TYPE(p.dtype() == DType::f64 && p.device().is_cpu(),
                   "gradcheck needs f64 CPU parameters, got {} for '{}'", describe(p.value()), p.name());
  }
  // Analytic pass.
  tape().clear();
  std::vector<Variable> vars;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool checked = opt.check.empty() || (i < opt.check.size() && opt.check[i]);
    vars.emplace_back(inputs[i].clone(), checked, fmt::format("input{}", i));
  }
  for (const Variable& p : params) {
    Variable q = p;
    if (q.has_grad()) {
      Tensor g = q.grad();
      g.zero();
    }
  }
  Variable out = f(vars);
  ASN_CHECK_TYPE(out.dtype() == DType::f64, "gradcheck: the function returned {}", describe(out.value()));
  Tensor r = Tensor::empty(out.shape(), DType::f64);
  Generator gen(opt.seed);
  gen.fill_uniform(r, -1.0, 1.0);
  backward(out, r);

  // Collect (label, analytic gradient, tensor to perturb).
  struct Target {
    std::string label;
    Tensor analytic;
    Tensor perturb;  // the tensor whose elements are nudged
    bool is_param;
  };
  std::vector<Target> targets;
  std::vector<Tensor> perturbed_inputs;
  for (const Tensor& t : inputs) perturbed_inputs.push_back(t.clone());
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].requires_grad()) continue;
    Tensor g = vars[i].has_grad() ? vars[i].grad() : Tensor::zeros(inputs[i].shape(), DType::f64);
    targets.push_back({fmt::format("input {} {}", i, inputs[i].shape().str()), g.clone(),
                       perturbed_inputs[i], false});
  }
  for (const Variable& p : params) {
    Tensor g = p.has_grad() ? p.grad().clone() : Tensor::zeros(p.shape(), DType::f64);
    targets.push_back({fmt::format("param '{}' {}", p.name(), p.shape().str()), g, p.value(), true});
  }

  auto eval = [&]() {
    NoGradGuard ng;
    std::vector<Variable> vs;
    for (const Tensor& t : perturbed_inputs) vs.emplace_back(t, false);
    Variable o = f(vs);
    return project(o.value(), r);
  };

  GradcheckResult res;
  std::string worst;
  for (Target& tg : targets) {
    double* x = tg.perturb.data<double>();
    const double* a = tg.analytic.data<double>();
    const int64_t numel = tg.perturb.numel();
    const int64_t checks = opt.max_elements_per_tensor > 0 ? std::min(numel, opt.max_elements_per_tensor) : numel;
    for (int64_t c = 0; c < checks; ++c) {
      const int64_t k = checks <= 1 ? 0 : (numel == checks ? c : c * (numel - 1) / (checks - 1));
      const double orig = x[k];
      x[k] = orig + opt.eps;
      const double fp = eval();
      x[k] = orig - opt.eps;
      const double fm = eval();
      x[k] = orig;
      const double num = (fp - fm) / (2 * opt.eps);
      const double tol = opt.atol + opt.rtol * std::max(std::fabs(a[k]), std::fabs(num));
      const double ratio = std::fabs(a[k] - num) / tol;
      if (ratio > res.worst_ratio) {
        res.worst_ratio = ratio;
        worst = fmt::format("{} element {}: analytic {:.12g}, numeric {:.12g}", tg.label, k, a[k], num);
      }
    }
  }
  tape().clear();
  res.ok = res.worst_ratio <= 1.0;
  res.report = fmt::format("gradcheck {}: worst element used {:.1f}% of the tolerance (rtol {}, atol {}){}{}",
                           res.ok ? "passed" : "FAILED", 100.0 * res.worst_ratio, opt.rtol, opt.atol,
                           worst.empty() ? "" : "; worst: ", worst);
  return res;
}

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  return gradcheck_with_params(f, inputs, {}, options);
}

}  // namespace asn::ag
