// Optimizers from JSON configuration (the training config's "optimizer" object), strict like the
// LR schedules: unknown keys and wrong types throw asn::ValueError naming the key.
//
//   {"type": "sgd", "momentum": 0.9, "nesterov": false, "weight_decay": 0}
//   {"type": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}
// Omitted keys take the defaults of SgdOptions / AdamwOptions (shown above).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "autograd/optim/optimizer.h"

namespace asn::ag {

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& config, Parameters& params);
// The configuration of an optimizer made by this library (Sgd or AdamW), every key written.
nlohmann::json optimizer_to_json(const Optimizer& optimizer);

}  // namespace asn::ag
