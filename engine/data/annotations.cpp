// Parsers of list files, the Kinetics CSV, the Charades CSV and class lists.
#include "engine/data/annotations.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/data/csv.h"
#include "engine/error.h"

namespace asn::data {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool parse_int(const std::string& s, int* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size() || v < INT32_MIN || v > INT32_MAX) return false;
  *out = static_cast<int>(v);
  return true;
}

bool parse_double(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// "3" or "3,7,12" (no spaces) as labels; false when the token is not that.
bool parse_label_token(const std::string& token, std::vector<int>* labels) {
  std::vector<int> out;
  size_t b = 0;
  while (b <= token.size()) {
    size_t e = token.find(',', b);
    if (e == std::string::npos) e = token.size();
    int v = 0;
    if (!parse_int(token.substr(b, e - b), &v)) return false;
    out.push_back(v);
    b = e + 1;
  }
  labels->insert(labels->begin(), out.begin(), out.end());
  return true;
}

bool is_separator(char c, char sep) { return c == sep || (sep == ' ' && c == '\t'); }

// Column positions by header name.
std::map<std::string, size_t> header_columns(const CsvRecord& header) {
  std::map<std::string, size_t> cols;
  for (size_t i = 0; i < header.fields.size(); ++i) cols[trim(header.fields[i])] = i;
  return cols;
}

size_t require_column(const std::map<std::string, size_t>& cols, const std::string& name,
                      const std::string& source, const std::string& expected) {
  auto it = cols.find(name);
  if (it == cols.end()) {
    ASN_THROW(IoError, "{}:1: the header has no '{}' column (expected a header like '{}')", source,
              name, expected);
  }
  return it->second;
}

}  // namespace

std::vector<ListEntry> parse_list_file(const std::string& text, const std::string& source,
                                       const ListFileOptions& options) {
  std::vector<ListEntry> entries;
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  const char sep = options.separator;
  const std::string expected =
      options.multilabel ? "'<path> <label> [<label> ...]'" : "'<path> <label>'";
  while (std::getline(in, raw)) {
    ++line;
    std::string rest = raw;
    while (!rest.empty() && (rest.back() == '\r' || rest.back() == '\n')) rest.pop_back();
    if (trim(rest).empty()) continue;
    // Peel label tokens off the right.
    ListEntry e;
    e.line = line;
    for (;;) {
      while (!rest.empty() && is_separator(rest.back(), sep)) rest.pop_back();
      size_t cut = rest.size();
      while (cut > 0 && !is_separator(rest[cut - 1], sep)) --cut;
      if (cut == 0) break;  // what is left has no separator: it is the path
      const std::string token = rest.substr(cut);
      std::vector<int> labels;
      if (!parse_label_token(token, &labels)) break;
      if (!options.multilabel && (!e.labels.empty() || labels.size() > 1)) break;
      e.labels.insert(e.labels.begin(), labels.begin(), labels.end());
      rest = rest.substr(0, cut);
      if (!options.multilabel) break;
    }
    while (!rest.empty() && is_separator(rest.back(), sep)) rest.pop_back();
    const std::string path = trim(rest);
    if (e.labels.empty() || path.empty()) {
      ASN_THROW(IoError, "{}:{}: malformed line '{}': expected {}{}", source, line, raw, expected,
                options.multilabel ? "" : " (several labels need the multi-label list format)");
    }
    for (int l : e.labels) {
      if (l < 0) ASN_THROW(IoError, "{}:{}: label {} is negative", source, line, l);
    }
    e.path = path;
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<KineticsRow> parse_kinetics_csv(const std::string& text, const std::string& source) {
  const std::vector<CsvRecord> recs = parse_csv(text, source);
  if (recs.empty()) ASN_THROW(IoError, "{}: empty annotation file", source);
  const std::string expected = "label,youtube_id,time_start,time_end,split";
  const auto cols = header_columns(recs[0]);
  const size_t c_label = require_column(cols, "label", source, expected);
  const size_t c_id = require_column(cols, "youtube_id", source, expected);
  const size_t c_start = require_column(cols, "time_start", source, expected);
  const size_t c_end = require_column(cols, "time_end", source, expected);
  const auto split_it = cols.find("split");
  std::vector<KineticsRow> rows;
  for (size_t r = 1; r < recs.size(); ++r) {
    const CsvRecord& rec = recs[r];
    if (rec.fields.size() != recs[0].fields.size()) {
      ASN_THROW(IoError, "{}:{}: malformed line: {} fields where the header has {}", source,
                rec.line, rec.fields.size(), recs[0].fields.size());
    }
    KineticsRow row;
    row.line = rec.line;
    row.label = trim(rec.fields[c_label]);
    row.youtube_id = trim(rec.fields[c_id]);
    if (split_it != cols.end()) row.split = trim(rec.fields[split_it->second]);
    double start = 0, end = 0;
    if (!parse_double(trim(rec.fields[c_start]), &start) ||
        !parse_double(trim(rec.fields[c_end]), &end) || start < 0 || end < start) {
      ASN_THROW(IoError,
                "{}:{}: malformed line: time_start '{}' and time_end '{}' must be "
                "seconds with 0 <= time_start <= time_end",
                source, rec.line, rec.fields[c_start], rec.fields[c_end]);
    }
    if (row.label.empty() || row.youtube_id.empty()) {
      ASN_THROW(IoError, "{}:{}: malformed line: empty label or youtube_id", source, rec.line);
    }
    row.time_start = std::llround(start);
    row.time_end = std::llround(end);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string kinetics_file_name(const std::string& youtube_id, int64_t time_start, int64_t time_end,
                               const std::string& extension) {
  return fmt::format("{}_{:06d}_{:06d}{}", youtube_id, time_start, time_end, extension);
}

std::vector<TimedAction> parse_charades_actions(const std::string& field, const std::string& where,
                                                int num_classes) {
  std::vector<TimedAction> actions;
  size_t b = 0;
  const std::string f = trim(field);
  while (b < f.size()) {
    size_t e = f.find(';', b);
    if (e == std::string::npos) e = f.size();
    const std::string item = trim(f.substr(b, e - b));
    b = e + 1;
    if (item.empty()) continue;
    std::istringstream in(item);
    std::string cls, s, t, extra;
    in >> cls >> s >> t;
    TimedAction a;
    int id = 0;
    if (cls.size() < 2 || cls[0] != 'c' || !parse_int(cls.substr(1), &id) ||
        !parse_double(s, &a.start_s) || !parse_double(t, &a.end_s) || (in >> extra)) {
      ASN_THROW(IoError, "{}: malformed action '{}': expected 'cNNN <start> <end>'", where, item);
    }
    if (id < 0 || id >= num_classes) {
      ASN_THROW(IoError, "{}: unknown action class '{}' (classes are c000..c{:03d})", where, cls,
                num_classes - 1);
    }
    if (a.end_s < a.start_s) {
      ASN_THROW(IoError, "{}: action '{}' ends before it starts", where, item);
    }
    a.label = id;
    actions.push_back(a);
  }
  return actions;
}

std::vector<CharadesRow> parse_charades_csv(const std::string& text, const std::string& source,
                                            int num_classes) {
  const std::vector<CsvRecord> recs = parse_csv(text, source);
  if (recs.empty()) ASN_THROW(IoError, "{}: empty annotation file", source);
  const std::string expected =
      "id,subject,scene,quality,relevance,verified,script,objects,"
      "descriptions,actions,length";
  const auto cols = header_columns(recs[0]);
  const size_t c_id = require_column(cols, "id", source, expected);
  const size_t c_actions = require_column(cols, "actions", source, expected);
  const auto len_it = cols.find("length");
  std::vector<CharadesRow> rows;
  for (size_t r = 1; r < recs.size(); ++r) {
    const CsvRecord& rec = recs[r];
    const std::string where = fmt::format("{}:{}", source, rec.line);
    if (rec.fields.size() != recs[0].fields.size()) {
      ASN_THROW(IoError, "{}: malformed line: {} fields where the header has {}", where,
                rec.fields.size(), recs[0].fields.size());
    }
    CharadesRow row;
    row.line = rec.line;
    row.id = trim(rec.fields[c_id]);
    if (row.id.empty()) ASN_THROW(IoError, "{}: malformed line: empty id", where);
    row.actions = parse_charades_actions(rec.fields[c_actions], where, num_classes);
    if (len_it != cols.end()) {
      const std::string len = trim(rec.fields[len_it->second]);
      if (!len.empty() && !parse_double(len, &row.length_s)) {
        ASN_THROW(IoError, "{}: malformed length '{}'", where, len);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> parse_class_list(const std::string& text, const std::string& source) {
  std::vector<std::string> names;
  std::istringstream in(text);
  std::string raw;
  int line = 0, first_empty = 0;
  std::set<std::string> seen;
  while (std::getline(in, raw)) {
    ++line;
    const std::string name = trim(raw);
    if (name.empty()) {
      if (!first_empty) first_empty = line;
      continue;
    }
    if (first_empty) {
      ASN_THROW(IoError, "{}:{}: empty line inside the class list (line numbers are class indices)",
                source, first_empty);
    }
    if (!seen.insert(name).second) {
      ASN_THROW(IoError, "{}:{}: class '{}' is listed twice", source, line, name);
    }
    names.push_back(name);
  }
  if (names.empty()) ASN_THROW(IoError, "{}: the class list is empty", source);
  return names;
}

std::vector<std::string> read_class_list(const std::string& path) {
  return parse_class_list(read_text_file(path), path);
}

// --- Something-Something V2 ----------------------------------------------------------------------

namespace {

nlohmann::json parse_json_file_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    ASN_THROW(IoError, "{}: not valid JSON: {}", source, e.what());
  }
}

// "Putting [something] on a surface" -> "Putting something on a surface".
std::string strip_brackets(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '[' && c != ']') out.push_back(c);
  return out;
}

}  // namespace

Ssv2Labels parse_ssv2_labels(const std::string& text, const std::string& source) {
  const nlohmann::json j = parse_json_file_text(text, source);
  if (!j.is_object() || j.empty())
    ASN_THROW(IoError, "{}: expected a JSON object mapping each template to its class id", source);
  std::map<int, std::string> by_id;
  for (auto it = j.begin(); it != j.end(); ++it) {
    int id = -1;
    if (it.value().is_number_integer()) {
      id = it.value().get<int>();
    } else if (it.value().is_string()) {
      const std::string v = it.value().get<std::string>();
      char* end = nullptr;
      const long x = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') ASN_THROW(IoError, "{}: template '{}': class id '{}' is not an integer", source, it.key(), v);
      id = static_cast<int>(x);
    } else {
      ASN_THROW(IoError, "{}: template '{}': class id must be an integer or a string, got {}", source, it.key(),
                it.value().dump());
    }
    if (id < 0) ASN_THROW(IoError, "{}: template '{}': negative class id {}", source, it.key(), id);
    if (!by_id.emplace(id, it.key()).second)
      ASN_THROW(IoError, "{}: class id {} is given to both '{}' and '{}'", source, id, by_id[id], it.key());
  }
  Ssv2Labels labels;
  int expect = 0;
  for (const auto& [id, name] : by_id) {
    if (id != expect) ASN_THROW(IoError, "{}: class ids must be 0..{} without gaps; {} is missing", source, by_id.size() - 1, expect);
    labels.class_names.push_back(name);
    ++expect;
  }
  return labels;
}

std::vector<Ssv2Entry> parse_ssv2_annotations(const std::string& text, const std::string& source,
                                              const Ssv2Labels& labels) {
  std::map<std::string, int> index;
  for (size_t k = 0; k < labels.class_names.size(); ++k) index[labels.class_names[k]] = static_cast<int>(k);
  const nlohmann::json j = parse_json_file_text(text, source);
  if (!j.is_array()) ASN_THROW(IoError, "{}: expected a JSON list of videos", source);
  std::vector<Ssv2Entry> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    const std::string where = fmt::format("{}: entry {}", source, i);
    if (!e.is_object() || !e.contains("id"))
      ASN_THROW(IoError, "{}: needs an object with an \"id\", got {}", where, e.dump());
    Ssv2Entry entry;
    entry.index = static_cast<int>(i);
    if (e["id"].is_string()) entry.id = e["id"].get<std::string>();
    else if (e["id"].is_number_integer()) entry.id = std::to_string(e["id"].get<int64_t>());
    else ASN_THROW(IoError, "{}: \"id\" must be a string or an integer, got {}", where, e["id"].dump());
    if (!e.contains("template") || !e["template"].is_string())
      ASN_THROW(IoError, "{} (video {}): no \"template\" (the test split has no labels; use the train or "
                "validation file)", where, entry.id);
    const std::string name = strip_brackets(e["template"].get<std::string>());
    auto it = index.find(name);
    if (it == index.end())
      ASN_THROW(IoError, "{} (video {}): template '{}' is not in the labels file", where, entry.id, name);
    entry.label = it->second;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace asn::data
