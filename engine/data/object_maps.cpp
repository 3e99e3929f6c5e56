// Object-map files: path convention, loading with validation, and writing.
#include "engine/data/object_maps.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/io/safetensors.h"

namespace asn::data {

namespace fs = std::filesystem;

std::string object_map_path(const std::string& video_path, const std::string& video_root,
                            const ObjectMapOptions& options) {
  fs::path video(video_path);
  fs::path rel = video.filename();
  if (!video_root.empty()) {
    const fs::path r = fs::path(video_path).lexically_relative(video_root);
    if (!r.empty() && *r.begin() != "..") rel = r;
  }
  rel.replace_extension();
  const std::string name = rel.string() + options.suffix;
  if (!options.root.empty()) return (fs::path(options.root) / name).string();
  return (video.parent_path() / fs::path(name).filename()).string();
}

Tensor load_object_maps(const std::string& path, int num_classes) {
  if (!fs::exists(path)) ASN_THROW(IoError, "{}: object-map file not found", path);
  const io::SafetensorsFile f = io::load_safetensors(path);
  if (!f.contains("classes")) {
    ASN_THROW(IoError, "{}: object-map file has no tensor 'classes' (u8 (F, h, w))", path);
  }
  const Tensor& maps = f.get("classes");
  if (maps.dtype() != DType::u8 || maps.rank() != 3 || maps.numel() == 0) {
    ASN_THROW(IoError, "{}: object maps 'classes' must be non-empty u8 (F, h, w), got {}", path,
              describe(maps));
  }
  const uint8_t* p = maps.data<uint8_t>();
  for (int64_t i = 0; i < maps.numel(); ++i) {
    if (p[i] >= num_classes) {
      const int64_t plane = maps.dim(1) * maps.dim(2);
      ASN_THROW(IoError, "{}: object class id {} in map {} is not below num_classes {}", path,
                static_cast<int>(p[i]), i / plane, num_classes);
    }
  }
  return maps;
}

std::vector<int64_t> object_map_frames(const std::vector<int64_t>& video_frames,
                                       int64_t num_video_frames, int64_t num_maps) {
  std::vector<int64_t> r;
  r.reserve(video_frames.size());
  for (int64_t f : video_frames) {
    r.push_back(
        num_maps == num_video_frames ? f : std::min(num_maps - 1, f * num_maps / num_video_frames));
  }
  return r;
}

void save_object_maps(const std::string& path, const Tensor& maps, int num_classes) {
  ASN_CHECK_TYPE(maps.dtype() == DType::u8 && maps.rank() == 3,
                 "save_object_maps: needs u8 (F, h, w) maps, got {}", describe(maps));
  io::save_safetensors(path, {{"classes", maps}}, {{"num_classes", std::to_string(num_classes)}});
}

}  // namespace asn::data
