// Autograd glue for gated_sum (see gated_sum.h): argument checks, device dispatch, one tape node
// whose inputs are xs..., weights, then the defined gates in input order.
#include "autograd/functions/gated_sum.h"

#include <string>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/fusion/gated_sum.h"

namespace asn::ag {

namespace {

constexpr const char* kOp = "gated_sum";

using kernels::GatedSumGeometry;

template <class T>
kernels::GatedSumTensors<T> pointers(const std::vector<Tensor>& xs, const Tensor& weights,
                                     const std::vector<Tensor>& gates) {
  kernels::GatedSumTensors<T> p;
  for (const Tensor& x : xs) p.x.push_back(x.data<T>());
  if (!gates.empty())
    for (const Tensor& a : gates) p.gate.push_back(a.defined() ? a.data<T>() : nullptr);
  p.weights = weights.data<T>();
  return p;
}

template <class T>
void forward(const GatedSumGeometry& g, const std::vector<Tensor>& xs, const Tensor& weights,
             const std::vector<Tensor>& gates, Tensor& s) {
  const kernels::GatedSumTensors<T> p = pointers<T>(xs, weights, gates);
#ifdef ASN_WITH_CUDA
  if (s.device().is_cuda()) {
    kernels::gated_sum_forward_cuda<T>(g, p, s.data<T>(), s.device().index);
    return;
  }
#endif
  kernels::gated_sum_forward_cpu<T>(g, p, s.data<T>());
}

template <class T>
void backward(const GatedSumGeometry& g, const std::vector<Tensor>& xs, const Tensor& weights,
              const std::vector<Tensor>& gates, const Tensor& ds, std::vector<Tensor>& dxs,
              Tensor& dweights, std::vector<Tensor>& dgates) {
  const kernels::GatedSumTensors<T> p = pointers<T>(xs, weights, gates);
  kernels::GatedSumGrads<T> out;
  for (const Tensor& d : dxs) out.dx.push_back(d.defined() ? d.data<T>() : nullptr);
  for (const Tensor& d : dgates) out.dgate.push_back(d.defined() ? d.data<T>() : nullptr);
  out.dweights = dweights.defined() ? dweights.data<T>() : nullptr;
#ifdef ASN_WITH_CUDA
  if (ds.device().is_cuda()) {
    kernels::gated_sum_backward_cuda<T>(g, p, ds.data<T>(), out, ds.device().index);
    return;
  }
#endif
  kernels::gated_sum_backward_cpu<T>(g, p, ds.data<T>(), out);
}

}  // namespace

Variable gated_sum(const std::vector<Variable>& xs, const Variable& weights,
                   const std::vector<int64_t>& weight_index, const std::vector<Variable>& gates,
                   int64_t Hs, int64_t Ws) {
  OpScope scope(kOp);
  ASN_CHECK(!xs.empty(), "gated_sum: needs at least one input, got none");
  for (size_t j = 0; j < xs.size(); ++j)
    ASN_CHECK_TYPE(xs[j].defined(), "gated_sum: xs[{}] is an undefined Variable", j);
  const Tensor& x0 = xs[0].value();
  check_floating(kOp, "xs[0]", x0);
  std::vector<Tensor> xv;
  for (size_t j = 0; j < xs.size(); ++j) {
    const std::string what = "xs[" + std::to_string(j) + "]";
    check_same_type(kOp, what.c_str(), xs[j].value(), "xs[0]", x0);
    xv.push_back(xs[j].value());
  }
  ASN_CHECK_TYPE(weights.defined(), "gated_sum: weights is an undefined Variable (xs[0] {})",
                 describe(x0));
  const Tensor& wv = weights.value();
  check_same_type(kOp, "weights", wv, "xs[0]", x0);
  ASN_CHECK_SHAPE(wv.rank() == 1,
                  "gated_sum: weights must have rank 1 (one weight per edge), got {} (xs[0] {})",
                  describe(wv), describe(x0));
  ASN_CHECK_SHAPE(!weight_index.empty() || wv.numel() == static_cast<int64_t>(xs.size()),
                  "gated_sum: weights {} must hold one weight per input ({} inputs, xs[0] {})",
                  describe(wv), xs.size(), describe(x0));
  const GatedSumGeometry g =
      kernels::make_gated_sum_geometry(kOp, xv, Hs, Ws, wv.numel(), weight_index);

  ASN_CHECK_SHAPE(gates.empty() || gates.size() == xs.size(),
                  "gated_sum: {} gates for {} inputs (give none, or one per input, undefined "
                  "where ungated)",
                  gates.size(), xs.size());
  const Shape gate_shape{g.N, g.T, g.C};
  std::vector<Tensor> gv;
  std::vector<Variable> inputs(xs.begin(), xs.end());
  inputs.push_back(weights);
  std::vector<size_t> gate_input;  // the input j of each gate recorded on the tape
  for (size_t j = 0; j < gates.size(); ++j) {
    if (!gates[j].defined()) {
      gv.emplace_back();
      continue;
    }
    const std::string what = "gates[" + std::to_string(j) + "]";
    check_same_type(kOp, what.c_str(), gates[j].value(), "xs[0]", x0);
    ASN_CHECK_SHAPE(gates[j].shape() == gate_shape,
                    "gated_sum: gates[{}] must have shape (N, T, C) = {} to gate xs[{}] {}, got {}",
                    j, gate_shape.str(), j, describe(xv[j]), describe(gates[j].value()));
    gv.push_back(gates[j].value());
    inputs.push_back(gates[j]);
    gate_input.push_back(j);
  }
#ifndef ASN_WITH_CUDA
  if (x0.device().is_cuda()) throw_no_cuda(kOp);
#endif

  Tensor s = Tensor::empty(kernels::gated_sum_output_shape(g), x0.dtype(), x0.device());
  kernels::dispatch_float(kOp, x0.dtype(), [&](auto tag) {
    using T = decltype(tag);
    forward<T>(g, xv, wv, gv, s);
  });

  // Saved for backward: the inputs and gates (handles), the weights' values at this point.
  const Tensor w_saved = wv.clone();
  const size_t n = xs.size();
  return record1(kOp, inputs, s,
                 [g, xv, w_saved, gv, gate_input, n](const std::vector<Tensor>& grads,
                                                     const std::vector<bool>& needs) {
                   const Tensor& ds = grads[0];
                   std::vector<Tensor> dxs(n);
                   for (size_t j = 0; j < n; ++j)
                     if (needs[j]) dxs[j] = Tensor::empty(xv[j].shape(), ds.dtype(), ds.device());
                   Tensor dw;
                   if (needs[n]) dw = Tensor::empty(w_saved.shape(), ds.dtype(), ds.device());
                   std::vector<Tensor> dgates(gv.size());
                   for (size_t k = 0; k < gate_input.size(); ++k) {
                     const size_t j = gate_input[k];
                     if (needs[n + 1 + k])
                       dgates[j] = Tensor::empty(gv[j].shape(), ds.dtype(), ds.device());
                   }
                   kernels::dispatch_float(kOp, ds.dtype(), [&](auto tag) {
                     using T = decltype(tag);
                     backward<T>(g, xv, w_saved, gv, ds, dxs, dw, dgates);
                   });
                   std::vector<Tensor> out(dxs.begin(), dxs.end());
                   out.push_back(dw);
                   for (size_t j : gate_input) out.push_back(dgates[j]);
                   return out;
                 });
}

Variable gated_sum(const std::vector<Variable>& xs, const Variable& weights,
                   const std::vector<Variable>& gates, int64_t Hs, int64_t Ws) {
  return gated_sum(xs, weights, std::vector<int64_t>{}, gates, Hs, Ws);
}

}  // namespace asn::ag
