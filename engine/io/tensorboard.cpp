// TensorBoard event writing and reading (see tensorboard.h).
#include "engine/io/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/io/crc32c.h"

namespace asn::io {

namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_fixed(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }

void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string event_header(double wall_time, int64_t step) {
  std::string e;
  put_varint(e, 1 << 3 | 1);  // wall_time, fixed64
  put_fixed(e, &wall_time, 8);
  put_varint(e, 2 << 3 | 0);  // step, varint
  put_varint(e, static_cast<uint64_t>(step));
  return e;
}

// Minimal protobuf reading for read_scalar_events.
struct Reader {
  const std::string& s;
  size_t pos = 0, end;
  bool done() const { return pos >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) throw std::runtime_error("truncated varint");
      const uint8_t b = static_cast<uint8_t>(s[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("bad varint");
  }
  void skip(int wire) {
    if (wire == 0) varint();
    else if (wire == 1) pos += 8;
    else if (wire == 5) pos += 4;
    else if (wire == 2) pos += varint();
    else throw std::runtime_error("unsupported wire type");
    if (pos > end) throw std::runtime_error("truncated field");
  }
};

}  // namespace

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const auto secs = static_cast<long long>(now_seconds());
  path_ = fmt::format("{}/events.out.tfevents.{}.{}", dir, secs, host);
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) ASN_THROW(IoError, "cannot create TensorBoard event file '{}': {}", path_, std::strerror(errno));
  std::string e = event_header(now_seconds(), 0);
  put_bytes_field(e, 3, "brain.Event:2");
  write_record(e);
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::write_record(const std::string& payload) {
  const uint64_t len = payload.size();
  const uint32_t len_crc = masked_crc32c(&len, 8);
  const uint32_t data_crc = masked_crc32c(payload.data(), payload.size());
  std::string rec;
  put_fixed(rec, &len, 8);
  put_fixed(rec, &len_crc, 4);
  rec += payload;
  put_fixed(rec, &data_crc, 4);
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size())
    ASN_THROW(IoError, "cannot write TensorBoard event file '{}'", path_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  put_bytes_field(v, 1, tag);
  const float f = static_cast<float>(value);
  put_varint(v, 2 << 3 | 5);  // simple_value, fixed32
  put_fixed(v, &f, 4);
  std::string summary;
  put_bytes_field(summary, 1, v);
  std::string e = event_header(now_seconds(), step);
  put_bytes_field(e, 5, summary);
  write_record(e);
}

void TensorBoardWriter::flush() {
  if (file_) std::fflush(file_);
}

std::vector<ScalarEvent> read_scalar_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ASN_THROW(IoError, "cannot open event file '{}'", path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<ScalarEvent> out;
  size_t pos = 0;
  int record = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 12) ASN_THROW(IoError, "{}: record {} truncated", path, record);
    uint64_t len;
    uint32_t len_crc;
    std::memcpy(&len, data.data() + pos, 8);
    std::memcpy(&len_crc, data.data() + pos + 8, 4);
    if (masked_crc32c(data.data() + pos, 8) != len_crc) ASN_THROW(IoError, "{}: record {} length CRC mismatch", path, record);
    if (data.size() - pos - 12 < len + 4) ASN_THROW(IoError, "{}: record {} truncated", path, record);
    const std::string payload = data.substr(pos + 12, len);
    uint32_t data_crc;
    std::memcpy(&data_crc, data.data() + pos + 12 + len, 4);
    if (masked_crc32c(payload.data(), payload.size()) != data_crc)
      ASN_THROW(IoError, "{}: record {} data CRC mismatch", path, record);
    pos += 12 + len + 4;
    try {
      Reader r{payload, 0, payload.size()};
      double wall = 0;
      int64_t step = 0;
      std::vector<std::pair<std::string, float>> values;
      while (!r.done()) {
        const uint64_t key = r.varint();
        const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
        if (field == 1 && wire == 1) {
          std::memcpy(&wall, payload.data() + r.pos, 8);
          r.pos += 8;
        } else if (field == 2 && wire == 0) {
          step = static_cast<int64_t>(r.varint());
        } else if (field == 5 && wire == 2) {
          const size_t n = r.varint();
          Reader sr{payload, r.pos, r.pos + n};
          while (!sr.done()) {
            const uint64_t k2 = sr.varint();
            if ((k2 >> 3) != 1 || (k2 & 7) != 2) {
              sr.skip(static_cast<int>(k2 & 7));
              continue;
            }
            const size_t vn = sr.varint();
            Reader vr{payload, sr.pos, sr.pos + vn};
            std::string tag;
            float val = 0;
            while (!vr.done()) {
              const uint64_t k3 = vr.varint();
              if (k3 == (1 << 3 | 2)) {
                const size_t tn = vr.varint();
                tag = payload.substr(vr.pos, tn);
                vr.pos += tn;
              } else if (k3 == (2 << 3 | 5)) {
                std::memcpy(&val, payload.data() + vr.pos, 4);
                vr.pos += 4;
              } else {
                vr.skip(static_cast<int>(k3 & 7));
              }
            }
            values.emplace_back(tag, val);
            sr.pos += vn;
          }
          r.pos += n;
        } else {
          r.skip(wire);
        }
      }
      for (auto& [tag, v] : values) out.push_back({tag, v, step, wall});
    } catch (const std::runtime_error& e) {
      ASN_THROW(IoError, "{}: record {} is not a valid Event: {}", path, record, e.what());
    }
    ++record;
  }
  return out;
}

}  // namespace asn::io
