// Weight files (see weights.h).
#include "graph/weights.h"

#include <set>

#include "engine/io/safetensors.h"

namespace asn::graph {

void save_weights(const ag::Parameters& params, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  ASN_CHECK(params.finalized(), "save_weights: the parameters are not initialised");
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& e : params.entries()) ts.emplace_back(e.name, e.var.value());
  io::save_safetensors(path, ts, metadata);
}

LoadReport load_weights(ag::Parameters& params, const std::string& path, bool strict) {
  ASN_CHECK(params.finalized(), "load_weights: the parameters are not initialised");
  io::SafetensorsFile f = io::load_safetensors(path);
  LoadReport rep;
  std::set<std::string> in_file;
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("optimizer/", 0) == 0 || name.rfind("__", 0) == 0) continue;
    in_file.insert(name);
    if (!params.contains(name)) rep.unexpected.push_back(name);
  }
  for (const auto& e : params.entries()) {
    if (!in_file.count(e.name)) {
      rep.missing.push_back(e.name);
      continue;
    }
    const Tensor& src = f.get(e.name);
    ASN_CHECK_SHAPE(src.shape() == e.var.shape(), "{}: '{}' has shape {} in the file but {} in the model", path,
                    e.name, src.shape().str(), e.var.shape().str());
    ASN_CHECK_TYPE(is_floating(src.dtype()), "{}: '{}' is {} (expected a floating dtype)", path, e.name,
                   dtype_name(src.dtype()));
    Tensor dst = e.var.value();
    dst.copy_from(src.to(dst.dtype()));
    ++rep.loaded;
  }
  if (strict && (!rep.missing.empty() || !rep.unexpected.empty())) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
      if (v.size() > 8) s += fmt::format(", ... ({} in all)", v.size());
      return s.empty() ? std::string("none") : s;
    };
    ASN_THROW(IoError, "{}: weights do not match the model: missing [{}]; unexpected [{}]", path, list(rep.missing),
              list(rep.unexpected));
  }
  return rep;
}

}  // namespace asn::graph
