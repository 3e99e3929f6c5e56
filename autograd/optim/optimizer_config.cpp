// Optimizer construction from JSON and back (autograd/optim/optimizer_config.h).
#include "autograd/optim/optimizer_config.h"

#include "autograd/optim/adamw.h"
#include "autograd/optim/json_fields.h"
#include "autograd/optim/sgd.h"

namespace asn::ag {

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& config, Parameters& params) {
  JsonFields f(config, "optimizer");
  const std::string type = f.string("type");
  std::unique_ptr<Optimizer> opt;
  if (type == "sgd") {
    f.allow_only({"type", "momentum", "nesterov", "weight_decay"});
    SgdOptions o;
    o.momentum = f.number_or("momentum", o.momentum);
    o.nesterov = f.boolean_or("nesterov", o.nesterov);
    o.weight_decay = f.number_or("weight_decay", o.weight_decay);
    opt = std::make_unique<Sgd>(params, o);
  } else if (type == "adamw") {
    f.allow_only({"type", "beta1", "beta2", "eps", "weight_decay"});
    AdamwOptions o;
    o.beta1 = f.number_or("beta1", o.beta1);
    o.beta2 = f.number_or("beta2", o.beta2);
    o.eps = f.number_or("eps", o.eps);
    o.weight_decay = f.number_or("weight_decay", o.weight_decay);
    opt = std::make_unique<AdamW>(params, o);
  } else {
    ASN_THROW(ValueError, "optimizer: unknown type '{}' (expected sgd or adamw)", type);
  }
  f.finish();
  return opt;
}

nlohmann::json optimizer_to_json(const Optimizer& optimizer) {
  nlohmann::json j;
  if (const auto* s = dynamic_cast<const Sgd*>(&optimizer)) {
    j["type"] = "sgd";
    j["momentum"] = s->options().momentum;
    j["nesterov"] = s->options().nesterov;
    j["weight_decay"] = s->options().weight_decay;
  } else if (const auto* a = dynamic_cast<const AdamW*>(&optimizer)) {
    j["type"] = "adamw";
    j["beta1"] = a->options().beta1;
    j["beta2"] = a->options().beta2;
    j["eps"] = a->options().eps;
    j["weight_decay"] = a->options().weight_decay;
  } else {
    ASN_THROW(ValueError, "optimizer_to_json: optimizer '{}' has no JSON form", optimizer.name());
  }
  return j;
}

}  // namespace asn::ag
