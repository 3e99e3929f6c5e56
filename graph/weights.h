// Model weights as safetensors files: one tensor per parameter and buffer, named exactly as the
// parameter store names them (`node_<i>/...`, `rep_flow/...`, `head/...`; docs/weights.md), so
// weights from another implementation can be mapped in by renaming.
#pragma once

#include <map>
#include <string>

#include "autograd/parameters.h"

namespace asn::graph {

// Every parameter and buffer (trainable or not), as f32 unless the store is f64.
void save_weights(const ag::Parameters& params, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});

struct LoadReport {
  int loaded = 0;
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
};

// Copies matching tensors into the (finalized) store, casting f64/f32/bf16 as needed. Shape
// mismatches are always errors; with `strict`, missing or unexpected names are errors too (the
// message lists them). Names starting with "optimizer/" or "__" are ignored (checkpoint extras).
LoadReport load_weights(ag::Parameters& params, const std::string& path, bool strict = true);

}  // namespace asn::graph
