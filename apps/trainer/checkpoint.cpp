// Checkpoints (see checkpoint.h).
#include "apps/trainer/checkpoint.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "engine/io/safetensors.h"
#include "engine/log.h"

namespace asn::train {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "asn-checkpoint-1";

std::string meta(const io::SafetensorsFile& f, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) ASN_THROW(IoError, "{}: not an asn checkpoint: metadata '{}' is missing", f.source, key);
  return it->second;
}

int64_t meta_int(const io::SafetensorsFile& f, const std::string& key) {
  const std::string v = meta(f, key);
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    ASN_THROW(IoError, "{}: checkpoint metadata '{}' is not an integer: '{}'", f.source, key, v);
  }
}

// Copies the checkpoint's tensor `key` into `dst` (a parameter or a view of one); it must be there
// with dst's shape and dtype. `what` names it in messages ("tensor", "averaged weight").
void copy_tensor(const io::SafetensorsFile& f, const std::string& key, Tensor dst, const char* what) {
  if (!f.contains(key)) ASN_THROW(IoError, "{}: checkpoint has no {} '{}' (a different model?)", f.source, what, key);
  const Tensor& src = f.get(key);
  ASN_CHECK_SHAPE(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
                  "{}: '{}' is {} in the checkpoint but {} in the model", f.source, key, describe(src), describe(dst));
  dst.copy_from(src);
}

CheckpointInfo info_of(const io::SafetensorsFile& f) {
  if (meta(f, "format") != kFormat)
    ASN_THROW(IoError, "{}: unsupported checkpoint format '{}' (expected {})", f.source, meta(f, "format"), kFormat);
  CheckpointInfo info;
  info.state.step = meta_int(f, "step");
  info.state.epoch = meta_int(f, "epoch");
  info.state.batch_in_epoch = meta_int(f, "batch_in_epoch");
  info.state.rng_seed = static_cast<uint64_t>(std::stoull(meta(f, "rng_seed")));
  info.state.rng_offset = static_cast<uint64_t>(std::stoull(meta(f, "rng_offset")));
  info.state.best_metric = std::stod(meta(f, "best_metric"));
  info.state.best_step = meta_int(f, "best_step");
  try {
    info.config = json::parse(meta(f, "config"));
    info.structure = json::parse(meta(f, "structure"));
    auto it = f.metadata.find("clip");
    info.clip = it == f.metadata.end() ? json::object() : json::parse(it->second);
  } catch (const json::parse_error& e) {
    ASN_THROW(IoError, "{}: checkpoint metadata is corrupt: {}", f.source, e.what());
  }
  return info;
}
}  // namespace

void save_checkpoint(const std::string& path, const ag::Parameters& params, const ag::Optimizer* optimizer,
                     const TrainingState& s, const json& config, const json& structure, const json& clip,
                     const ag::Ema* ema) {
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& e : params.entries()) ts.emplace_back(e.name, e.var.value());
  std::map<std::string, std::string> md{{"format", kFormat},
                                        {"step", std::to_string(s.step)},
                                        {"epoch", std::to_string(s.epoch)},
                                        {"batch_in_epoch", std::to_string(s.batch_in_epoch)},
                                        {"rng_seed", std::to_string(s.rng_seed)},
                                        {"rng_offset", std::to_string(s.rng_offset)},
                                        {"best_metric", fmt::format("{:.17g}", s.best_metric)},
                                        {"best_step", std::to_string(s.best_step)},
                                        {"config", config.dump()},
                                        {"structure", structure.dump()},
                                        {"clip", clip.dump()}};
  if (optimizer) {
    md["optimizer"] = optimizer->name();
    md["optimizer_steps"] = std::to_string(optimizer->step_count());
    for (const auto& [name, t] : optimizer->state_tensors()) ts.emplace_back("optimizer/" + name, t);
  }
  if (ema) {
    md["ema_updates"] = std::to_string(ema->updates());
    for (const auto& [name, t] : ema->named_views()) ts.emplace_back("ema/" + name, t);
  }
  io::save_safetensors(path, ts, md);
}

CheckpointInfo checkpoint_info(const io::SafetensorsFile& file) { return info_of(file); }

CheckpointInfo read_checkpoint_info(const std::string& path) { return info_of(io::load_safetensors(path)); }

CheckpointInfo load_checkpoint(const std::string& path, ag::Parameters& params, ag::Optimizer* optimizer,
                               ag::Ema* ema) {
  return load_checkpoint(io::load_safetensors(path), params, optimizer, ema);
}

CheckpointInfo load_checkpoint(const io::SafetensorsFile& f, ag::Parameters& params, ag::Optimizer* optimizer,
                               ag::Ema* ema) {
  const std::string& path = f.source;
  CheckpointInfo info = info_of(f);
  for (const auto& e : params.entries()) copy_tensor(f, e.name, e.var.value(), "tensor");
  if (optimizer) {
    const std::string name = meta(f, "optimizer");
    ASN_CHECK(name == optimizer->name(), "{}: checkpoint optimizer is '{}' but the run uses '{}'", path, name,
              optimizer->name());
    std::vector<std::pair<std::string, Tensor>> st;
    for (const auto& [n, t] : optimizer->state_tensors()) {
      const std::string key = "optimizer/" + n;
      if (!f.contains(key)) ASN_THROW(IoError, "{}: checkpoint has no optimizer state '{}'", path, key);
      st.emplace_back(n, f.get(key));
    }
    optimizer->load_state_tensors(st);
    optimizer->set_step_count(meta_int(f, "optimizer_steps"));
  }
  if (ema) {
    ASN_CHECK(f.metadata.count("ema_updates") > 0,
              "{}: the run averages the weights (train.ema_decay > 0) but the checkpoint holds no average; "
              "resume with train.ema_decay=0 or from a run that used it", path);
    for (const auto& [name, view] : ema->named_views()) copy_tensor(f, "ema/" + name, view, "averaged weight");
    ema->set_updates(meta_int(f, "ema_updates"));
  }
  return info;
}

bool load_ema_weights(const io::SafetensorsFile& f, ag::Parameters& params) {
  if (f.metadata.count("ema_updates") == 0) return false;
  for (const auto& e : params.entries())
    if (e.options.trainable) copy_tensor(f, "ema/" + e.name, e.var.value(), "averaged weight");
  return true;
}

CheckpointManager::CheckpointManager(std::string dir, int keep_last, bool keep_best)
    : dir_(std::move(dir)), keep_last_(keep_last), keep_best_(keep_best) {
  ASN_CHECK(keep_last >= 1, "checkpoint.keep_last must be >= 1, got {}", keep_last);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) ASN_THROW(IoError, "cannot create checkpoint folder '{}': {}", dir_, ec.message());
  for (const std::string& name : remove_stale_temporaries(dir_))
    ASN_LOG_WARN("{}: removed '{}', left by a checkpoint write that was killed", dir_, name);
}

std::vector<std::string> CheckpointManager::remove_stale_temporaries(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return removed;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const size_t at = name.rfind(".safetensors.tmp.");
    if (at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + std::strlen(".safetensors.tmp."));
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long long pid = std::stoll(pid_text);
    // Still written by a live process (this one, or another run on the same folder): keep it.
    if (pid > 0 && pid <= std::numeric_limits<pid_t>::max() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
      continue;
    std::error_code rm;
    if (fs::remove(e.path(), rm)) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<std::string> CheckpointManager::list(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ckpt-", 0) == 0 && name.size() > 17 && name.substr(name.size() - 12) == ".safetensors")
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());  // zero-padded step numbers sort in step order
  return out;
}

std::string CheckpointManager::latest(const std::string& dir) {
  auto all = list(dir);
  return all.empty() ? "" : all.back();
}

std::string CheckpointManager::latest_intact(const std::string& dir, std::vector<std::string>* damaged,
                                             io::SafetensorsFile* file) {
  const auto all = list(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      io::SafetensorsFile f = io::load_safetensors(*it);
      if (file) *file = std::move(f);
      return *it;
    } catch (const IoError& e) {
      damaged->push_back(e.what());
    }
  }
  return "";
}

std::string CheckpointManager::save(const ag::Parameters& params, const ag::Optimizer* optimizer,
                                    const TrainingState& state, const json& config, const json& structure,
                                    const json& clip, const ag::Ema* ema) {
  const std::string path = fmt::format("{}/ckpt-{:08d}.safetensors", dir_, state.step);
  save_checkpoint(path, params, optimizer, state, config, structure, clip, ema);
  auto all = list(dir_);
  for (size_t i = 0; i + static_cast<size_t>(keep_last_) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i], ec);
  }
  return path;
}

std::string CheckpointManager::save_best(const ag::Parameters& params, const ag::Optimizer* optimizer,
                                         const TrainingState& state, const json& config, const json& structure,
                                         const json& clip, const ag::Ema* ema) {
  if (!keep_best_) return "";
  const std::string path = dir_ + "/best.safetensors";
  save_checkpoint(path, params, optimizer, state, config, structure, clip, ema);
  return path;
}

}  // namespace asn::train
