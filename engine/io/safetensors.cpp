// safetensors reading and writing (see safetensors.h).
#include "engine/io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/io/crc32c.h"

namespace asn::io {

using nlohmann::json;

namespace {

const char* st_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::bf16: return "BF16";
    case DType::i32: return "I32";
    case DType::u8: return "U8";
  }
  return "?";
}

bool parse_st_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::f32;
  else if (s == "F64") *out = DType::f64;
  else if (s == "BF16") *out = DType::bf16;
  else if (s == "I32") *out = DType::i32;
  else if (s == "U8") *out = DType::u8;
  else return false;
  return true;
}

[[noreturn]] void corrupt(const std::string& source, const std::string& what) {
  throw IoError(fmt::format("{}: not a valid safetensors file: {}", source, what));
}

std::string crc_hex(uint32_t c) { return fmt::format("{:08x}", c); }

bool parse_crc_hex(const std::string& s, uint32_t* out) {
  if (s.size() != 8) return false;
  uint32_t v = 0;
  for (char ch : s) {
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else return false;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

const Tensor& SafetensorsFile::get(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  ASN_THROW(IoError, "{}: no tensor named '{}'", source, name);
}

bool SafetensorsFile::contains(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source) {
  SafetensorsFile f;
  f.source = source;
  if (bytes.size() < 8) corrupt(source, fmt::format("truncated: {} bytes, the 8-byte header length is missing", bytes.size()));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (n > bytes.size() - 8)
    corrupt(source, fmt::format("truncated: the header claims {} bytes but only {} follow", n, bytes.size() - 8));
  json header;
  try {
    header = json::parse(bytes.substr(8, n));
  } catch (const json::parse_error& e) {
    corrupt(source, fmt::format("corrupt header (not JSON): {}", e.what()));
  }
  if (!header.is_object()) corrupt(source, "corrupt header: not a JSON object");
  const size_t data_start = 8 + n;
  const size_t data_len = bytes.size() - data_start;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) corrupt(source, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) corrupt(source, fmt::format("metadata '{}' is not a string", m.key()));
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const json& e = it.value();
    const std::string& name = it.key();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      corrupt(source, fmt::format("tensor '{}': needs dtype, shape and data_offsets", name));
    Entry en;
    en.name = name;
    if (!e["dtype"].is_string() || !parse_st_dtype(e["dtype"].get<std::string>(), &en.dtype))
      corrupt(source, fmt::format("tensor '{}': unsupported dtype {}", name, e["dtype"].dump()));
    if (!e["shape"].is_array()) corrupt(source, fmt::format("tensor '{}': shape is not a list", name));
    std::vector<int64_t> dims;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) corrupt(source, fmt::format("tensor '{}': bad shape {}", name, e["shape"].dump()));
      dims.push_back(d.get<int64_t>());
    }
    if (dims.size() > static_cast<size_t>(Shape::kMaxRank))
      corrupt(source, fmt::format("tensor '{}': rank {} is too large", name, dims.size()));
    en.shape = Shape(dims);
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      corrupt(source, fmt::format("tensor '{}': bad data_offsets {}", name, off.dump()));
    en.begin = off[0].get<uint64_t>();
    en.end = off[1].get<uint64_t>();
    if (en.end < en.begin) corrupt(source, fmt::format("tensor '{}': data_offsets end before begin", name));
    const uint64_t want = static_cast<uint64_t>(en.shape.numel()) * dtype_size(en.dtype);
    if (en.end - en.begin != want)
      corrupt(source, fmt::format("tensor '{}': {} {} needs {} bytes but its data_offsets span {}", name,
                                  dtype_name(en.dtype), en.shape.str(), want, en.end - en.begin));
    if (en.end > data_len)
      throw IoError(fmt::format("{}: truncated: tensor '{}' ends at byte {} of the data section but the file holds "
                                "only {} data bytes", source, name, en.end, data_len));
    entries.push_back(en);
  }
  // No two tensors may share bytes.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      corrupt(source, fmt::format("tensors '{}' and '{}' overlap", entries[i - 1].name, entries[i].name));
  // Checksums (kCrcKeyPrefix + name -> 8 hex digits) are checked and then left out of the
  // metadata the caller sees. Files from other writers have none.
  std::map<std::string, uint32_t> crcs;
  for (auto m = f.metadata.begin(); m != f.metadata.end();) {
    if (m->first.rfind(kCrcKeyPrefix, 0) != 0) {
      ++m;
      continue;
    }
    const std::string name = m->first.substr(std::strlen(kCrcKeyPrefix));
    uint32_t c = 0;
    if (!parse_crc_hex(m->second, &c))
      corrupt(source, fmt::format("metadata '{}': '{}' is not an 8-digit hex CRC-32C", m->first, m->second));
    if (std::none_of(entries.begin(), entries.end(), [&](const Entry& e) { return e.name == name; }))
      corrupt(source, fmt::format("metadata '{}' is the checksum of a tensor the file does not hold", m->first));
    crcs[name] = c;
    m = f.metadata.erase(m);
  }
  for (const auto& en : entries) {
    const char* src = bytes.data() + data_start + en.begin;
    const auto crc = crcs.find(en.name);
    if (crc != crcs.end()) {
      const uint32_t actual = crc32c(src, en.end - en.begin);
      if (actual != crc->second)
        throw IoError(fmt::format("{}: tensor '{}' is damaged: its bytes have CRC-32C {} but the file recorded "
                                  "{} when it was written", source, en.name, crc_hex(actual), crc_hex(crc->second)));
    }
    Tensor t = Tensor::empty(en.shape, en.dtype);
    if (t.nbytes() > 0) std::memcpy(t.raw_data(), src, t.nbytes());
    f.tensors.emplace_back(en.name, t);
  }
  return f;
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ASN_THROW(IoError, "cannot open '{}': {}", path, std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) ASN_THROW(IoError, "error reading '{}'", path);
  return parse_safetensors(ss.str(), path);
}

std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  std::vector<Tensor> host;
  for (const auto& [name, t] : tensors) {
    ASN_CHECK(!name.empty() && name != "__metadata__", "safetensors: invalid tensor name '{}'", name);
    ASN_CHECK(names.insert(name).second, "safetensors: duplicate tensor name '{}'", name);
    ASN_CHECK(t.defined(), "safetensors: tensor '{}' is undefined", name);
    host.push_back(t.device().is_cpu() ? t : t.to(Device::cpu()));
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", t.shape().vec()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  // The caller's metadata, minus any stale checksums, plus one CRC-32C per tensor.
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : metadata)
    if (k.rfind(kCrcKeyPrefix, 0) != 0) meta[k] = v;
  for (size_t i = 0; i < host.size(); ++i)
    meta[kCrcKeyPrefix + tensors[i].first] = crc_hex(crc32c(host[i].raw_data(), host[i].nbytes()));
  if (!meta.empty()) header["__metadata__"] = meta;
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');  // align the data section to 8 bytes
  std::string out;
  out.reserve(8 + h.size() + offset);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += h;
  for (const Tensor& t : host) out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  return out;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) ASN_THROW(IoError, "cannot create '{}': {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      ASN_THROW(IoError, "cannot write '{}': {}", tmp, err);
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    ASN_THROW(IoError, "cannot flush '{}': {}", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    ASN_THROW(IoError, "cannot rename '{}' to '{}': {}", tmp, path, err);
  }
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace asn::io
