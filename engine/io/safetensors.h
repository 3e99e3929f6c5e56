// safetensors files: the checkpoint and tensor-exchange format (readable by PyTorch's and the
// `safetensors` package's loaders).
//
// Layout: 8-byte little-endian header length n, n bytes of JSON header
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "string value", ...}}
// then the raw little-endian tensor bytes; offsets are relative to the end of the header.
// Reading validates everything (header length, JSON, dtypes, offsets inside the file, sizes matching
// shapes, no overlaps) and names the file and the problem on failure. Writing is atomic: a temporary
// file in the same folder, fsync, then rename over the target, so a crash never leaves a half-written
// file under the real name.
//
// Integrity: the format itself has no checksum, so asn records one CRC-32C per tensor in the
// metadata ("crc32c:<tensor name>" -> 8 lowercase hex digits; metadata values must be strings) and
// checks them on reading: a flipped bit in a tensor's bytes is an error naming the file and the
// tensor instead of silently wrong weights. Other readers ignore the extra keys; files from other
// writers (no checksums) load as before. The checksum keys are not part of the metadata returned.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace asn::io {

// Metadata key prefix of the per-tensor checksums.
inline constexpr const char* kCrcKeyPrefix = "crc32c:";

struct SafetensorsFile {
  // Tensors in the order of their data in the file (CPU tensors).
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  // The tensor called `name`; throws IoError naming the file when it is absent.
  const Tensor& get(const std::string& name) const;
  bool contains(const std::string& name) const;
  std::string source;  // file name, for messages
};

// Reads a whole file. Throws IoError ("<path>: truncated: ...", "<path>: corrupt header: ...").
SafetensorsFile load_safetensors(const std::string& path);
// Parses an in-memory image (used by load_safetensors and tests).
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source);

// Writes atomically. Tensors may live on any device (copied to the host). Names must be unique.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// The bytes save_safetensors would write.
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata);

// Writes `bytes` to `path` atomically (temp file + fsync + rename + fsync of the folder).
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace asn::io
