// Training configuration: a JSON file, dotted-key overrides from the command line, defaults for
// everything not given, strict validation (unknown keys and wrong types are errors naming the key).
// The resolved configuration (every key, defaults included) is what runs, what is saved in the run
// folder and in every checkpoint. Reference: docs/asn-train.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace asn::train {

// The defaults of every key (a complete configuration for the synthetic-data demo).
nlohmann::json default_config();

// Applies "a.b.c=value" overrides; value is parsed as JSON when it is valid JSON (numbers, true,
// [1,2], "quoted"), else taken as a string. Unknown paths are errors.
void apply_overrides(nlohmann::json& config, const std::vector<std::string>& overrides);

// Fills defaults and checks every key and type against default_config(); throws ValueError naming
// the dotted key. Relative paths stay as given (they are resolved against `base_dir` by the trainer).
nlohmann::json resolve_config(const nlohmann::json& user);

// Reads a JSON config file (errors name the file and the JSON problem).
nlohmann::json load_config_file(const std::string& path);

// Typed access with a clear error: get<int>(cfg, "train.epochs").
template <class T>
T get(const nlohmann::json& config, const std::string& dotted);

}  // namespace asn::train
