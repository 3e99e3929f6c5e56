// JsonFields: strict reading of a flat JSON configuration object (LR schedules, optimizers).
//
// Every accessor checks the value's type and throws asn::ValueError naming the context and the
// key ("lr_schedule: key 'total_steps' must be an integer, got 10.5"); allow_only() and finish()
// reject every key that is not an option, so a misspelt option is an error instead of a silent
// default.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace asn::ag {

class JsonFields {
 public:
  // `context` names the thing being configured in error messages ("lr_schedule").
  JsonFields(const nlohmann::json& object, std::string context);

  bool has(const char* key) const;
  double number(const char* key);  // required, any JSON number
  double number_or(const char* key, double fallback);
  int64_t integer(const char* key);  // required, a JSON integer
  int64_t integer_or(const char* key, int64_t fallback);
  bool boolean_or(const char* key, bool fallback);
  std::string string(const char* key);                 // required
  std::vector<int64_t> integer_list(const char* key);  // required, an array of integers

  // Throws naming the first key outside `allowed` (and listing the allowed ones). Call it before
  // reading, so a misspelt optional key is reported as such rather than as a missing one.
  void allow_only(const std::vector<std::string>& allowed) const;
  // Throws naming the first key that was never read.
  void finish() const;

 private:
  const nlohmann::json& at(const char* key, const char* kind);

  const nlohmann::json& object_;
  std::string context_;
  std::set<std::string> used_;
};

}  // namespace asn::ag
