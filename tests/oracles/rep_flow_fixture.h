// Reads the NumPy fixtures that tests/reference/rep_flow_reference.py writes under
// tests/reference/fixtures/: .npy files (format 1.0-3.0) holding little-endian float64, C order.
// Anything else is rejected with an IoError naming the file.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "kernels/repflow/tvl1_flow.h"

namespace asn::test {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

inline NpyArray read_npy_f64(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) ASN_THROW(IoError, "read_npy_f64: cannot open {}", path);
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    ASN_THROW(IoError, "read_npy_f64: {} is not a .npy file", path);
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, ' ');
  f.read(&header[0], header_len);
  if (!f) ASN_THROW(IoError, "read_npy_f64: {} has a truncated header", path);
  if (header.find("'descr': '<f8'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    ASN_THROW(IoError, "read_npy_f64: {} is not little-endian float64 in C order: {}", path, header);
  const size_t open = header.find('(', header.find("'shape'"));
  const size_t close = header.find(')', open);
  NpyArray a;
  int64_t numel = 1;
  std::string dims = header.substr(open + 1, close - open - 1);
  size_t pos = 0;
  while (pos < dims.size()) {
    const size_t comma = dims.find(',', pos);
    const std::string tok = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (tok.find_first_of("0123456789") != std::string::npos) {
      a.shape.push_back(std::stoll(tok));
      numel *= a.shape.back();
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  a.data.resize(static_cast<size_t>(numel));
  f.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(numel * 8));
  if (!f) ASN_THROW(IoError, "read_npy_f64: {} is truncated ({} values expected)", path, numel);
  return a;
}

// One fixture case: input, options, parameters and the float64 / float32 reference flows.
struct RepFlowFixture {
  NpyArray x, flow64, flow32;
  int iterations = 0;
  bool channel_mean = true, normalize = true;
  kernels::TvL1Params params;
};

inline RepFlowFixture load_rep_flow_fixture(const std::string& dir, const std::string& name) {
  RepFlowFixture fx;
  fx.x = read_npy_f64(dir + "/" + name + "_x.npy");
  fx.flow64 = read_npy_f64(dir + "/" + name + "_flow64.npy");
  fx.flow32 = read_npy_f64(dir + "/" + name + "_flow32.npy");
  const NpyArray pv = read_npy_f64(dir + "/" + name + "_params.npy");
  if (pv.data.size() != 20) ASN_THROW(IoError, "{}_params.npy: expected 20 values", name);
  const double* v = pv.data.data();
  fx.iterations = static_cast<int>(v[0]);
  fx.channel_mean = v[1] != 0;
  fx.normalize = v[2] != 0;
  fx.params.theta = v[3];
  fx.params.lambda = v[4];
  fx.params.tau = v[5];
  for (int k = 0; k < 3; ++k) {
    fx.params.img_grad_x[k] = v[6 + k];
    fx.params.img_grad_y[k] = v[9 + k];
  }
  for (int k = 0; k < 2; ++k) {
    fx.params.f_grad_x[k] = v[12 + k];
    fx.params.f_grad_y[k] = v[14 + k];
    fx.params.f_grad_x2[k] = v[16 + k];
    fx.params.f_grad_y2[k] = v[18 + k];
  }
  return fx;
}

}  // namespace asn::test
