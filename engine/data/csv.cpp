// CSV parsing with line numbers, and whole-file reads with clear errors.
#include "engine/data/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace asn::data {

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& source,
                                 char separator) {
  std::vector<CsvRecord> records;
  CsvRecord rec;
  std::string field;
  bool in_quotes = false, field_started = false, record_has_content = false, quoted = false;
  int line = 1, quote_line = 0;
  rec.line = 1;
  auto end_field = [&] {
    rec.fields.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    // A line of only spaces counts as empty.
    const bool blank =
        rec.fields.empty() && !quoted && field.find_first_not_of(" \t") == std::string::npos;
    if (record_has_content && !blank) {
      end_field();
      records.push_back(std::move(rec));
    }
    rec = CsvRecord{};
    field.clear();
    field_started = false;
    record_has_content = false;
    quoted = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_quotes) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
      continue;
    }
    if (ch == '\r') continue;
    if (ch == '\n') {
      end_record();
      ++line;
      rec.line = line;
      continue;
    }
    if (!record_has_content) rec.line = line;
    record_has_content = true;
    if (ch == separator) {
      end_field();
    } else if (ch == '"' && !field_started && field.empty()) {
      in_quotes = true;
      quoted = true;
      field_started = true;
      quote_line = line;
    } else {
      field += ch;
      field_started = true;
    }
  }
  if (in_quotes) {
    ASN_THROW(IoError, "{}:{}: unterminated quoted field", source, quote_line);
  }
  end_record();
  return records;
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) ASN_THROW(IoError, "{}: cannot open ({})", path, std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) ASN_THROW(IoError, "{}: read error", path);
  return ss.str();
}

}  // namespace asn::data
