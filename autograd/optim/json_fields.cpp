// Strict JSON configuration reading (autograd/optim/json_fields.h).
#include "autograd/optim/json_fields.h"

#include "engine/error.h"

namespace asn::ag {

JsonFields::JsonFields(const nlohmann::json& object, std::string context)
    : object_(object), context_(std::move(context)) {
  ASN_CHECK(object_.is_object(), "{}: configuration must be a JSON object, got {}", context_,
            object_.dump());
}

bool JsonFields::has(const char* key) const { return object_.contains(key); }

const nlohmann::json& JsonFields::at(const char* key, const char* kind) {
  ASN_CHECK(object_.contains(key), "{}: missing required key '{}' ({}) in {}", context_, key, kind,
            object_.dump());
  used_.insert(key);
  return object_.at(key);
}

double JsonFields::number(const char* key) {
  const nlohmann::json& v = at(key, "a number");
  ASN_CHECK(v.is_number(), "{}: key '{}' must be a number, got {}", context_, key, v.dump());
  return v.get<double>();
}

double JsonFields::number_or(const char* key, double fallback) {
  return has(key) ? number(key) : fallback;
}

int64_t JsonFields::integer(const char* key) {
  const nlohmann::json& v = at(key, "an integer");
  ASN_CHECK(v.is_number_integer(), "{}: key '{}' must be an integer, got {}", context_, key,
            v.dump());
  ASN_CHECK(!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX),
            "{}: key '{}' is out of range, got {}", context_, key, v.dump());
  return v.get<int64_t>();
}

int64_t JsonFields::integer_or(const char* key, int64_t fallback) {
  return has(key) ? integer(key) : fallback;
}

bool JsonFields::boolean_or(const char* key, bool fallback) {
  if (!has(key)) return fallback;
  const nlohmann::json& v = at(key, "a boolean");
  ASN_CHECK(v.is_boolean(), "{}: key '{}' must be true or false, got {}", context_, key, v.dump());
  return v.get<bool>();
}

std::string JsonFields::string(const char* key) {
  const nlohmann::json& v = at(key, "a string");
  ASN_CHECK(v.is_string(), "{}: key '{}' must be a string, got {}", context_, key, v.dump());
  return v.get<std::string>();
}

std::vector<int64_t> JsonFields::integer_list(const char* key) {
  const nlohmann::json& v = at(key, "an array of integers");
  ASN_CHECK(v.is_array(), "{}: key '{}' must be an array of integers, got {}", context_, key,
            v.dump());
  std::vector<int64_t> out;
  for (const nlohmann::json& e : v) {
    ASN_CHECK(e.is_number_integer() &&
                  !(e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)),
              "{}: key '{}' must be an array of integers, got {}", context_, key, v.dump());
    out.push_back(e.get<int64_t>());
  }
  return out;
}

void JsonFields::allow_only(const std::vector<std::string>& allowed) const {
  for (const auto& item : object_.items()) {
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == item.key();
    if (!ok) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
      ASN_THROW(ValueError, "{}: unknown key '{}' in {} (allowed: {})", context_, item.key(),
                object_.dump(), list);
    }
  }
}

void JsonFields::finish() const {
  for (const auto& item : object_.items()) {
    ASN_CHECK(used_.count(item.key()) == 1, "{}: unknown key '{}' in {}", context_, item.key(),
              object_.dump());
  }
}

}  // namespace asn::ag
