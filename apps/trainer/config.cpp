// Training configuration (see config.h).
#include "apps/trainer/config.h"

#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace asn::train {

using nlohmann::json;

json default_config() {
  return json::parse(R"({
    "structure": "structures/demo_synthetic.json",
    "data": {
      "type": "synthetic",
      "synthetic": {"num_classes": 4, "num_train": 2048, "num_val": 512, "video_frames": 16,
                    "height": 32, "width": 32},
      "clip": {"num_frames": 8, "height": 32, "width": 32}
    },
    "loader": {"batch_size": 16, "num_workers": 2, "prefetch_batches": 4},
    "train": {
      "epochs": 8,
      "max_steps": 0,
      "accumulate": 1,
      "loss": "auto",
      "label_smoothing": 0.0,
      "clip_grad_norm": 0.0,
      "seed": 1,
      "threads": 0,
      "device": "auto",
      "deterministic": false,
      "recompute_activations": false,
      "checkpoint_blocks": false,
      "ema_decay": 0.0,
      "ema_dynamic_decay": true,
      "log_every": 10,
      "eval_every": 1,
      "eval_batch_size": 32,
      "eval_aggregate": "mean"
    },
    "optimizer": {"type": "sgd", "momentum": 0.9, "nesterov": true, "weight_decay": 0.0001},
    "lr_schedule": {"type": "cosine", "base_lr": 0.05, "warmup_steps": 50, "total_steps": -1, "final_lr": 0.0},
    "checkpoint": {"keep_last": 2, "keep_best": true, "every_epochs": 1, "every_steps": 0},
    "output_dir": "runs/demo"
  })");
}

namespace {

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Objects whose contents are free-form (validated by their own parsers: datasets, optimizer, schedule).
bool free_form(const std::string& path) {
  return path == "data" || path == "loader" || path == "optimizer" || path == "lr_schedule";
}

void merge_checked(json& base, const json& user, const std::string& path) {
  if (!user.is_object()) {
    ASN_THROW(ValueError, "config: '{}' must be an object, got {}", path.empty() ? "(top level)" : path, type_name(user));
  }
  for (auto it = user.begin(); it != user.end(); ++it) {
    const std::string key = path.empty() ? it.key() : path + "." + it.key();
    if (it.key() == "comment") continue;
    if (!base.contains(it.key())) ASN_THROW(ValueError, "config: unknown key '{}'", key);
    json& b = base[it.key()];
    const json& u = it.value();
    if (free_form(key)) {
      ASN_CHECK(u.is_object(), "config: '{}' must be an object, got {}", key, type_name(u));
      // A different "type" replaces the section whole; otherwise the user's keys are merged into
      // the defaults. Its own parser (datasets, loader, optimizer, schedule) checks the keys.
      if (u.contains("type") && (!b.contains("type") || b["type"] != u["type"])) {
        b = u;
      } else {
        b.merge_patch(u);
      }
      continue;
    }
    if (b.is_object()) {
      merge_checked(b, u, key);
      continue;
    }
    const bool ok = (b.is_boolean() && u.is_boolean()) || (b.is_number_integer() && u.is_number_integer()) ||
                    (b.is_number_float() && u.is_number()) || (b.is_string() && u.is_string()) ||
                    (b.is_array() && u.is_array());
    if (!ok) ASN_THROW(ValueError, "config: '{}' must be {} (like {}), got {}", key, type_name(b), b.dump(), u.dump());
    b = b.is_number_float() ? json(u.get<double>()) : u;
  }
}

}  // namespace

json resolve_config(const json& user) {
  json cfg = default_config();
  merge_checked(cfg, user, "");
  return cfg;
}

void apply_overrides(json& config, const std::vector<std::string>& overrides) {
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    ASN_CHECK(eq != std::string::npos && eq > 0, "override '{}': expected key.path=value", o);
    const std::string key = o.substr(0, eq), raw = o.substr(eq + 1);
    json value;
    try {
      value = json::parse(raw);
    } catch (const json::parse_error&) {
      value = raw;
    }
    json* node = &config;
    size_t pos = 0;
    std::string walked;
    while (true) {
      const size_t dot = key.find('.', pos);
      const std::string part = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
      walked += (walked.empty() ? "" : ".") + part;
      ASN_CHECK(node->is_object(), "override '{}': '{}' is not an object", o, walked);
      if (dot == std::string::npos) {
        (*node)[part] = value;
        break;
      }
      if (!node->contains(part)) (*node)[part] = json::object();
      node = &(*node)[part];
      pos = dot + 1;
    }
  }
}

json load_config_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) ASN_THROW(IoError, "cannot open config file '{}'", path);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    ASN_THROW(ValueError, "config file '{}' is not valid JSON: {}", path, e.what());
  }
}

template <class T>
T get(const json& config, const std::string& dotted) {
  const json* node = &config;
  size_t pos = 0;
  while (true) {
    const size_t dot = dotted.find('.', pos);
    const std::string part = dotted.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    ASN_CHECK(node->is_object() && node->contains(part), "config: missing key '{}'", dotted);
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  try {
    return node->get<T>();
  } catch (const json::exception&) {
    ASN_THROW(ValueError, "config: '{}' has the wrong type ({})", dotted, node->dump());
  }
}

template int get<int>(const json&, const std::string&);
template int64_t get<int64_t>(const json&, const std::string&);
template double get<double>(const json&, const std::string&);
template bool get<bool>(const json&, const std::string&);
template std::string get<std::string>(const json&, const std::string&);
template json get<json>(const json&, const std::string&);

}  // namespace asn::train
