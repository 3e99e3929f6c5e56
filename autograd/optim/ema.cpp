// Exponential moving average of the weights (see ema.h).
#include "autograd/optim/ema.h"

#include <algorithm>

#include "engine/error.h"
#include "kernels/tensor_ops.h"

namespace asn::ag {

Ema::Ema(Parameters& params, const EmaOptions& options) : params_(params), options_(options) {
  ASN_CHECK(options.decay > 0 && options.decay < 1, "ema: decay must be in (0, 1), got {}", options.decay);
  ASN_CHECK(params.finalized(), "ema: the parameters must be initialised first");
  values_ = params.values().clone();
}

double Ema::next_decay() const {
  if (!options_.dynamic_decay) return options_.decay;
  const double n = static_cast<double>(updates_);
  return std::min(options_.decay, (1.0 + n) / (10.0 + n));
}

void Ema::update() {
  ASN_CHECK(params_.values().device() == values_.device() && params_.values().numel() == values_.numel(),
            "ema: the parameters moved or changed size ({} vs the average's {})", describe(params_.values()),
            describe(values_));
  const double d = next_decay();
  kernels::scale_inplace(values_, d);
  kernels::axpy_inplace(values_, 1.0 - d, params_.values());
  ++updates_;
}

std::vector<std::pair<std::string, Tensor>> Ema::named_views() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const ParamEntry& e : params_.entries()) {
    if (!e.options.trainable) continue;
    out.emplace_back(e.name, values_.narrow0(e.offset, e.var.numel()).reshape(e.var.shape()));
  }
  return out;
}

void Ema::load(const Tensor& values, int64_t updates) {
  ASN_CHECK_SHAPE(values.numel() == values_.numel() && values.dtype() == values_.dtype(),
                  "ema: a saved average {} does not fit the model's {}", describe(values), describe(values_));
  ASN_CHECK(updates >= 0, "ema: negative update count {}", updates);
  values_.copy_from(values);
  updates_ = updates;
}

void Ema::set_updates(int64_t updates) {
  ASN_CHECK(updates >= 0, "ema: negative update count {}", updates);
  updates_ = updates;
}

EmaSwap::EmaSwap(Parameters& params, const Ema* ema) : params_(params) {
  if (ema == nullptr) return;
  saved_ = params.values().clone();
  params.values().copy_from(ema->values());
}

EmaSwap::~EmaSwap() {
  if (saved_.defined()) params_.values().copy_from(saved_);
}

}  // namespace asn::ag
