// TensorBoard event files written directly: TFRecord framing around hand-encoded `Event` protocol
// buffers, so no TensorFlow or protobuf dependency is needed and TensorBoard reads them as usual.
//
// Record: uint64 length (little endian), uint32 masked CRC-32C of the length bytes, the payload,
// uint32 masked CRC-32C of the payload; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
// Payload: Event { double wall_time = 1; int64 step = 2; string file_version = 3 (first record,
// "brain.Event:2"); Summary summary = 5 }, Summary { repeated Value value = 1 }, Value { string tag = 1;
// float simple_value = 2 }.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/io/crc32c.h"

namespace asn::io {

// TFRecord's masked CRC-32C (crc32c itself: engine/io/crc32c.h).
uint32_t masked_crc32c(const void* data, size_t n);

class TensorBoardWriter {
 public:
  // Creates `<dir>/events.out.tfevents.<seconds>.<host>` (the folder must exist) and writes the
  // file-version record.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::string path_;
  std::FILE* file_ = nullptr;
};

// A decoded scalar event (for tests and tools that read event files back).
struct ScalarEvent {
  std::string tag;
  double value = 0;
  int64_t step = 0;
  double wall_time = 0;
};
// Reads every scalar of an event file, verifying both CRCs of every record; IoError names the file
// and the record on corruption.
std::vector<ScalarEvent> read_scalar_events(const std::string& path);

}  // namespace asn::io
