// A small CSV reader for annotation files (Kinetics, Charades): RFC 4180 quoting ("a, b" and ""
// for a quote inside quotes), fields may span lines inside quotes, CRLF or LF line ends, empty
// lines skipped. Every record remembers the line it starts on, so errors can name "file:line".
#pragma once

#include <string>
#include <vector>

namespace asn::data {

struct CsvRecord {
  std::vector<std::string> fields;
  int line = 0;  // 1-based line where the record starts
};

// Throws IoError "<source>:<line>: unterminated quoted field" for a quote that never closes.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& source,
                                 char separator = ',');

// The whole file as a string; IoError "<path>: cannot open (...)" when it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace asn::data
