// conv3d on CUDA (cuDNN; cuBLASLt for pointwise convs) against the CPU kernels: forward, backward
// data and backward weight with NaN-poisoned outputs over the table of tests/kernels/
// test_conv3d.cpp (odd sizes, T = 1, kernels 3x3x3, 1x3x3, 3x1x1, 1x1x1, 1x7x7, 2x2x2, strides 2,
// dilations 2, TF SAME asymmetric pads 0/1, fixed padding, explicit asymmetric pads, padding wider
// than the kernel) in f32 (TF32 off) and f64, automatically chosen and with every cuDNN path
// (graph / legacy API, channels-last / channels-first) and the direct kernels forced in turn;
// the plan log; bitwise-equal repeats in deterministic mode;
// operands at unaligned addresses; the staging copies (pad, crop, transpose) on their own; empty
// batches and channels; the TF32 switch; the autograd function on both devices with only the
// needed gradients; and the error for operands on different devices.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functions/conv3d.h"
#include "autograd/tape.h"
#include "engine/runtime_flags.h"
#include "kernels/conv/conv3d.h"
#include "tests/oracles/conv3d_case.h"
#include "kernels/conv/conv3d_staging.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::kernels;

namespace {

using test::max_abs;

const Device kGpu = Device::cuda(0);

using Case = test::ConvCase;
using test::k1;
using test::Pad;

// The shared conv3d table (tests/oracles/conv3d_case.h), plus a wide-channel pointwise case for the
// cuBLASLt path and a SAME 0/1 case with every axis asymmetric.
const std::vector<Case>& cases() {
  static const std::vector<Case> cs = [] {
    std::vector<Case> all = test::conv3d_table();
    // clang-format off
    const std::vector<Case> extras = {
        {"pointwise 1x1x1 T=1, wide channels (cuBLASLt)", {3, 1, 5, 7, 37}, {19, 1, 1, 1, 37}, k1,
         k1, Pad::Same, {}},
        {"3x3x3 stride 2 on T/H/W, SAME 0/1 on every axis", {1, 6, 8, 10, 3}, {5, 3, 3, 3, 3},
         {2, 2, 2}, k1, Pad::Same, {}},
    };
    // clang-format on
    all.insert(all.end(), extras.begin(), extras.end());
    return all;
  }();
  return cs;
}

// The case called `name` (tests pick cases by name, so the table's order is free).
const Case& case_named(const std::string& name) {
  for (const Case& c : cases())
    if (name == c.name) return c;
  FAIL("no conv3d case named '" << name << "'");
  return cases()[0];
}

Tensor poisoned(const Shape& s, DType dt) { return Tensor::full(s, NAN, dt, kGpu); }

// Restores the process-wide switches when a test leaves.
struct FlagsGuard {
  bool tf32 = allow_tf32();
  bool det = deterministic();
  Conv3dCudaPath path = conv3d_cuda_path();
  ~FlagsGuard() {
    set_allow_tf32(tf32);
    set_deterministic(det);
    set_conv3d_cuda_path(path);
  }
};

struct Results {
  Tensor y, dx, dw;
};

template <class T>
Results run_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv3dParams& p) {
  Results r;
  r.y = Tensor::empty(dy.shape(), x.dtype());
  r.dx = Tensor::empty(x.shape(), x.dtype());
  r.dw = Tensor::empty(w.shape(), x.dtype());
  conv3d_forward_cpu<T>(x.data<T>(), x.shape(), w.data<T>(), w.shape(), p, r.y.data<T>());
  conv3d_backward_data_cpu<T>(dy.data<T>(), x.shape(), w.data<T>(), w.shape(), p, r.dx.data<T>());
  conv3d_backward_weight_cpu<T>(x.data<T>(), x.shape(), dy.data<T>(), w.shape(), p, r.dw.data<T>());
  return r;
}

// The three CUDA kernels on device copies, every output poisoned with NaN first.
template <class T>
Results run_gpu(const Tensor& xd, const Tensor& wd, const Tensor& dyd, const Conv3dParams& p) {
  const DType dt = dtype_of<T>();
  Results r;
  r.y = poisoned(dyd.shape(), dt);
  r.dx = poisoned(xd.shape(), dt);
  r.dw = poisoned(wd.shape(), dt);
  conv3d_forward_cuda<T>(xd.data<T>(), xd.shape(), wd.data<T>(), wd.shape(), p, r.y.data<T>(), 0);
  conv3d_backward_data_cuda<T>(dyd.data<T>(), xd.shape(), wd.data<T>(), wd.shape(), p,
                               r.dx.data<T>(), 0);
  conv3d_backward_weight_cuda<T>(xd.data<T>(), xd.shape(), dyd.data<T>(), wd.shape(), p,
                                 r.dw.data<T>(), 0);
  return r;
}

// |gpu - cpu| <= tol (|cpu| + max |cpu|) elementwise: `tol` normalised by the output's scale.
void require_close_normalised(const Results& gpu, const Results& cpu, double tol) {
  {
    INFO("forward");
    ASN_REQUIRE_CLOSE(gpu.y, cpu.y, tol, tol * max_abs(cpu.y));
  }
  {
    INFO("backward data");
    ASN_REQUIRE_CLOSE(gpu.dx, cpu.dx, tol, tol * max_abs(cpu.dx));
  }
  {
    INFO("backward weight");
    ASN_REQUIRE_CLOSE(gpu.dw, cpu.dw, tol, tol * max_abs(cpu.dw));
  }
}

void require_bitwise_equal(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  REQUIRE(va.size() == vb.size());
  size_t differing = 0;
  for (size_t i = 0; i < va.size(); ++i) differing += va[i] != vb[i] ? 1 : 0;
  INFO(differing << " of " << va.size() << " elements differ");
  REQUIRE(differing == 0);
}

template <class T>
void check_case(const Case& c, uint64_t seed, double tol) {
  const DType dt = dtype_of<T>();
  const Conv3dParams p = c.params();
  const Shape y_shape = p.output_shape(c.x, c.w);
  const Tensor x = test::random_uniform(c.x, seed + 1, -1, 1, dt);
  const Tensor w = test::random_uniform(c.w, seed + 2, -1, 1, dt);
  const Tensor dy = test::random_uniform(y_shape, seed + 3, -1, 1, dt);
  const Results cpu = run_cpu<T>(x, w, dy, p);
  const Results gpu = run_gpu<T>(x.to(kGpu), w.to(kGpu), dy.to(kGpu), p);
  require_close_normalised(gpu, cpu, tol);
}

// A copy of t on the GPU at element `offset` of a larger buffer (offset 1: only 4-byte (f32) or
// 8-byte (f64) aligned, like parameter views in the flat buffer).
Tensor gpu_at_offset(const Tensor& t, int64_t offset) {
  Tensor buf = Tensor::zeros(Shape{t.numel() + offset}, t.dtype(), kGpu);
  Tensor v = buf.narrow0(offset, t.numel()).reshape(t.shape());
  v.copy_from(t);
  return v;
}

Tensor gpu_poisoned_at_offset(const Shape& s, DType dt, int64_t offset) {
  Tensor buf = Tensor::full(Shape{s.numel() + offset}, NAN, dt, kGpu);
  return buf.narrow0(offset, s.numel()).reshape(s);
}

}  // namespace

TEST_CASE("cuda conv3d: kernels match the CPU over the conv3d table (outputs poisoned)",
          "[cuda][conv3d]") {
  FlagsGuard guard;
  set_allow_tf32(false);
  set_deterministic(false);
  uint64_t seed = 30100;
  for (const Case& c : cases()) {
    DYNAMIC_SECTION(c.name) {
      INFO("x " << c.x.str() << " w " << c.w.str() << " " << c.params().str());
      {
        INFO("f32");
        check_case<float>(c, seed, 1e-5);
      }
      {
        INFO("f64");
        check_case<double>(c, seed, 1e-12);
      }
    }
    seed += 10;
  }
}

TEST_CASE("cuda conv3d: every forced path matches the CPU over the conv3d table",
          "[cuda][conv3d]") {
  // Each cuDNN path must also be the one that ran for at least one problem of the table (else a
  // path that never builds would pass on the direct-kernel fallback); the plan log says which.
  FlagsGuard guard;
  set_allow_tf32(false);
  set_deterministic(false);
  const std::vector<std::pair<Conv3dCudaPath, const char*>> paths = {
      {Conv3dCudaPath::graph_channels_last, "graph channels-last"},
      {Conv3dCudaPath::legacy_channels_last, "legacy channels-last"},
      {Conv3dCudaPath::graph_channels_first, "graph channels-first"},
      {Conv3dCudaPath::legacy_channels_first, "legacy channels-first"},
      {Conv3dCudaPath::direct, "direct kernels"},
  };
  for (const auto& [path, label] : paths) {
    DYNAMIC_SECTION(label) {
      set_conv3d_cuda_path(path);
      const size_t logged = conv3d_cuda_plans().size();
      uint64_t seed = 33100;
      for (const Case& c : cases()) {
        INFO(c.name << ": x " << c.x.str() << " w " << c.w.str() << " " << c.params().str());
        check_case<float>(c, seed, 1e-5);
        seed += 10;
      }
      const std::vector<std::string> plans = conv3d_cuda_plans();
      std::string lines;
      size_t used = 0;
      for (size_t i = logged; i < plans.size(); ++i) {
        lines += plans[i] + "\n";
        used += plans[i].find(std::string(": ") + label) != std::string::npos ? 1 : 0;
      }
      INFO("plans chosen:\n" << lines);
      REQUIRE(plans.size() > logged);
      REQUIRE(used > 0);
    }
  }
}

TEST_CASE("cuda conv3d: one plan per problem and direction, logged once", "[cuda][conv3d]") {
  FlagsGuard guard;
  set_allow_tf32(false);
  set_deterministic(false);
  set_conv3d_cuda_path(Conv3dCudaPath::automatic);
  // A shape no other test uses, so its plans are new here.
  const Case c{"3x3x3 SAME, 5 -> 6 channels", {1, 3, 6, 7, 5}, {6, 3, 3, 3, 5}, k1, k1, Pad::Same,
               {}};
  const size_t before = conv3d_cuda_plans().size();
  check_case<float>(c, 33900, 1e-5);
  const std::vector<std::string> first = conv3d_cuda_plans();
  REQUIRE(first.size() == before + 3);  // forward, backward data, backward weight
  for (size_t i = before; i < first.size(); ++i) {
    INFO(first[i]);
    REQUIRE(first[i].find(c.x.str()) != std::string::npos);
    REQUIRE(first[i].find(c.w.str()) != std::string::npos);
  }
  check_case<float>(c, 33950, 1e-5);  // the cached plans run again
  REQUIRE(conv3d_cuda_plans().size() == first.size());
}

TEST_CASE("cuda conv3d: deterministic mode repeats bitwise and matches the CPU", "[cuda][conv3d]") {
  FlagsGuard guard;
  set_allow_tf32(false);
  set_deterministic(true);
  uint64_t seed = 30500;
  for (const Case& c : cases()) {
    DYNAMIC_SECTION(c.name) {
      const Conv3dParams p = c.params();
      INFO("x " << c.x.str() << " w " << c.w.str() << " " << p.str());
      const Shape y_shape = p.output_shape(c.x, c.w);
      const Tensor x = test::random_uniform(c.x, seed + 1, -1, 1, DType::f32);
      const Tensor w = test::random_uniform(c.w, seed + 2, -1, 1, DType::f32);
      const Tensor dy = test::random_uniform(y_shape, seed + 3, -1, 1, DType::f32);
      const Tensor xd = x.to(kGpu), wd = w.to(kGpu), dyd = dy.to(kGpu);
      const Results first = run_gpu<float>(xd, wd, dyd, p);
      const Results second = run_gpu<float>(xd, wd, dyd, p);
      require_close_normalised(first, run_cpu<float>(x, w, dy, p), 1e-5);
      {
        INFO("forward repeated");
        require_bitwise_equal(second.y, first.y);
      }
      {
        INFO("backward data repeated");
        require_bitwise_equal(second.dx, first.dx);
      }
      {
        INFO("backward weight repeated");
        require_bitwise_equal(second.dw, first.dw);
      }
    }
    seed += 10;
  }
}

TEST_CASE("cuda conv3d: operands at unaligned addresses", "[cuda][conv3d]") {
  FlagsGuard guard;
  set_allow_tf32(false);
  uint64_t seed = 30900;
  // A cuDNN case with asymmetric padding, one without padding copies, and a pointwise one.
  for (const char* name : {"odd sizes 3x3x3 SAME", "3x3x3 stride 2 on H/W, SAME asymmetric (pad 0/1)",
                           "VALID, strides and dilations on every axis", "pointwise 1x1x1"}) {
    const Case& c = case_named(name);
    DYNAMIC_SECTION(c.name) {
      const Conv3dParams p = c.params();
      const Shape y_shape = p.output_shape(c.x, c.w);
      const Tensor x = test::random_uniform(c.x, seed + 1, -1, 1, DType::f32);
      const Tensor w = test::random_uniform(c.w, seed + 2, -1, 1, DType::f32);
      const Tensor dy = test::random_uniform(y_shape, seed + 3, -1, 1, DType::f32);
      const Results cpu = run_cpu<float>(x, w, dy, p);
      for (int64_t offset : {1, 3}) {
        INFO("offset " << offset);
        const Tensor xd = gpu_at_offset(x, offset), wd = gpu_at_offset(w, offset);
        const Tensor dyd = gpu_at_offset(dy, offset);
        Results gpu;
        gpu.y = gpu_poisoned_at_offset(y_shape, DType::f32, offset);
        gpu.dx = gpu_poisoned_at_offset(c.x, DType::f32, offset);
        gpu.dw = gpu_poisoned_at_offset(c.w, DType::f32, offset);
        conv3d_forward_cuda<float>(xd.data<float>(), c.x, wd.data<float>(), c.w, p,
                                   gpu.y.data<float>(), 0);
        conv3d_backward_data_cuda<float>(dyd.data<float>(), c.x, wd.data<float>(), c.w, p,
                                         gpu.dx.data<float>(), 0);
        conv3d_backward_weight_cuda<float>(xd.data<float>(), c.x, dyd.data<float>(), c.w, p,
                                           gpu.dw.data<float>(), 0);
        require_close_normalised(gpu, cpu, 1e-5);
      }
    }
    seed += 10;
  }
}

TEST_CASE("cuda conv3d: staging copies pad, crop and change layout exactly", "[cuda][conv3d]") {
  // src (n, c, s0, s1, s2) in one layout -> dst (n, c, d0, d1, d2) in another, shifted by before.
  struct StageCase {
    const char* name;
    Conv3dStaging s;
  };
  auto make = [](bool src_cl, bool dst_cl, Dims3 src, Dims3 dst, Dims3 before) {
    Conv3dStaging s;
    s.n = 2;
    s.c = 3;
    for (int a = 0; a < 3; ++a) {
      s.src[a] = src[static_cast<size_t>(a)];
      s.dst[a] = dst[static_cast<size_t>(a)];
      s.before[a] = before[static_cast<size_t>(a)];
    }
    s.src_channels_last = src_cl;
    s.dst_channels_last = dst_cl;
    return s;
  };
  const std::vector<StageCase> stage_cases = {
      {"pad channels-last", make(true, true, {2, 3, 4}, {3, 4, 7}, {0, 1, 2})},
      {"pad into channels-first", make(true, false, {2, 3, 4}, {4, 3, 5}, {1, 0, 1})},
      {"crop channels-first into channels-last",
       make(false, true, {4, 5, 6}, {2, 3, 4}, {-1, -2, 0})},
      {"crop channels-last", make(true, true, {3, 5, 5}, {2, 4, 3}, {-1, 0, -2})},
      {"transpose only", make(false, true, {1, 3, 2}, {1, 3, 2}, {0, 0, 0})},
  };
  uint64_t seed = 31300;
  for (const StageCase& sc : stage_cases) {
    DYNAMIC_SECTION(sc.name) {
      const Conv3dStaging& s = sc.s;
      const Shape src_shape{s.n * s.c * s.src[0] * s.src[1] * s.src[2]};
      const Shape dst_shape{s.n * s.c * s.dst[0] * s.dst[1] * s.dst[2]};
      for (DType dt : {DType::f32, DType::f64}) {
        INFO(dtype_name(dt));
        const Tensor src = test::random_uniform(src_shape, ++seed, -1, 1, dt);
        const std::vector<double> sv = src.to_vector<double>();
        // Expected, by nested loops over logical coordinates.
        std::vector<double> want(static_cast<size_t>(dst_shape.numel()));
        auto index = [&](bool cl, const int64_t* dims, int64_t n, int64_t c, const int64_t* d) {
          const int64_t sp = (d[0] * dims[1] + d[1]) * dims[2] + d[2];
          const int64_t vol = dims[0] * dims[1] * dims[2];
          return cl ? (n * vol + sp) * s.c + c : (n * s.c + c) * vol + sp;
        };
        for (int64_t n = 0; n < s.n; ++n)
          for (int64_t c = 0; c < s.c; ++c)
            for (int64_t d0 = 0; d0 < s.dst[0]; ++d0)
              for (int64_t d1 = 0; d1 < s.dst[1]; ++d1)
                for (int64_t d2 = 0; d2 < s.dst[2]; ++d2) {
                  const int64_t d[3] = {d0, d1, d2};
                  const int64_t q[3] = {d0 - s.before[0], d1 - s.before[1], d2 - s.before[2]};
                  bool inside = true;
                  for (int a = 0; a < 3; ++a) inside = inside && q[a] >= 0 && q[a] < s.src[a];
                  const int64_t i = index(s.dst_channels_last, s.dst, n, c, d);
                  want[static_cast<size_t>(i)] =
                      inside ? sv[static_cast<size_t>(index(s.src_channels_last, s.src, n, c, q))]
                             : 0.0;
                }
        Tensor dst = poisoned(dst_shape, dt);
        const Tensor srcd = src.to(kGpu);
        if (dt == DType::f32) {
          conv3d_stage_cuda<float>(srcd.data<float>(), s, dst.data<float>(), 0);
        } else {
          conv3d_stage_cuda<double>(srcd.data<double>(), s, dst.data<double>(), 0);
        }
        REQUIRE(dst.to_vector<double>() == want);
      }
    }
  }
}

TEST_CASE("cuda conv3d: empty channels and batches give zeros", "[cuda][conv3d]") {
  const Conv3dParams p = Conv3dParams::same({3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {2, 4, 5});
  // Cin = 0: the forward sums are empty.
  {
    const Shape xs{2, 2, 4, 5, 0}, ws{3, 3, 3, 3, 0};
    const Tensor x = Tensor::zeros(xs, DType::f32, kGpu), w = Tensor::zeros(ws, DType::f32, kGpu);
    Tensor y = poisoned(p.output_shape(xs, ws), DType::f32);
    conv3d_forward_cuda<float>(x.data<float>(), xs, w.data<float>(), ws, p, y.data<float>(), 0);
    for (double v : y.to_vector<double>()) REQUIRE(v == 0.0);
  }
  // N = 0: the kernel gradient sums over no positions.
  {
    const Shape xs{0, 2, 4, 5, 3}, ws{4, 3, 3, 3, 3};
    const Tensor x = Tensor::zeros(xs, DType::f32, kGpu);
    const Tensor dy = Tensor::zeros(p.output_shape(xs, ws), DType::f32, kGpu);
    Tensor dw = poisoned(ws, DType::f32);
    conv3d_backward_weight_cuda<float>(x.data<float>(), xs, dy.data<float>(), ws, p,
                                       dw.data<float>(), 0);
    for (double v : dw.to_vector<double>()) REQUIRE(v == 0.0);
  }
}

TEST_CASE("cuda conv3d: with TF32 allowed, within the TF32 tolerance", "[cuda][conv3d]") {
  // Only shows the TF32 path runs and stays close; that TF32 is off by default is shown by the
  // 1e-5 agreement of the table test, which TF32 rounding (~1e-3 relative) would break.
  FlagsGuard guard;
  set_allow_tf32(true);
  set_deterministic(false);
  uint64_t seed = 31700;
  for (const char* name : {"odd sizes 3x3x3 SAME", "several chunks and column tiles",
                           "pointwise 1x1x1 T=1, wide channels (cuBLASLt)"}) {
    const Case& c = case_named(name);
    seed += 10;
    DYNAMIC_SECTION(c.name) { check_case<float>(c, seed, 1e-2); }
  }
}

TEST_CASE("cuda conv3d: autograd on both devices, only the needed gradients", "[cuda][conv3d]") {
  FlagsGuard guard;
  set_allow_tf32(false);
  uint64_t seed = 32100;
  for (const char* name : {"odd sizes 3x3x3 SAME", "3x3x3 stride 2 on H/W, SAME asymmetric (pad 0/1)",
                           "pointwise 1x1x1", "temporal 3x1x1 dilation 2"}) {
    const Case& c = case_named(name);
    const Conv3dParams p = c.params();
    const Shape y_shape = p.output_shape(c.x, c.w);
    for (DType dt : {DType::f32, DType::f64}) {
      // needs: 0 both, 1 input only, 2 kernel only.
      for (int needs = 0; needs < 3; ++needs) {
        INFO(c.name << " " << dtype_name(dt) << " needs " << needs);
        const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
        const Tensor x = test::random_uniform(c.x, ++seed, -1, 1, dt);
        const Tensor w = test::random_uniform(c.w, ++seed, -1, 1, dt);
        const Tensor g = test::random_uniform(y_shape, ++seed, -1, 1, dt);
        auto run = [&](Device dev, ag::Variable& xv, ag::Variable& wv) {
          ag::tape().clear();
          xv = ag::Variable(x.to(dev), needs != 2);
          wv = ag::Variable(w.to(dev), needs != 1);
          ag::Variable y = ag::conv3d(xv, wv, p);
          ag::backward(y, g.to(dev));
          return y.value();
        };
        ag::Variable xc, wc, xg, wg;
        const Tensor yc = run(Device::cpu(), xc, wc);
        const Tensor yg = run(kGpu, xg, wg);
        REQUIRE(yg.device() == kGpu);
        ASN_REQUIRE_CLOSE(yg, yc, tol, tol * max_abs(yc));
        REQUIRE(xg.has_grad() == (needs != 2));
        REQUIRE(wg.has_grad() == (needs != 1));
        if (needs != 2) {
          REQUIRE(xg.grad().device() == kGpu);
          ASN_REQUIRE_CLOSE(xg.grad(), xc.grad(), tol, tol * max_abs(xc.grad()));
        }
        if (needs != 1) {
          REQUIRE(wg.grad().device() == kGpu);
          ASN_REQUIRE_CLOSE(wg.grad(), wc.grad(), tol, tol * max_abs(wc.grad()));
        }
      }
    }
  }
}

TEST_CASE("cuda conv3d: operands on different devices name the op and both devices",
          "[cuda][conv3d]") {
  const Tensor x = test::random_uniform(Shape{1, 2, 5, 5, 3}, 32500, -1, 1, DType::f32);
  const Tensor w = test::random_uniform(Shape{4, 1, 3, 3, 3}, 32501, -1, 1, DType::f32);
  const Conv3dParams p = Conv3dParams::same({1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {2, 5, 5});
  REQUIRE_THROWS_WITH(ag::conv3d(ag::Variable(x.to(kGpu)), ag::Variable(w), p),
                      Catch::Contains("conv3d") && Catch::Contains("kernel") &&
                          Catch::Contains("(4, 1, 3, 3, 3) on cpu") &&
                          Catch::Contains("(1, 2, 5, 5, 3) on cuda:0"));
  REQUIRE_THROWS_WITH(
      ag::conv3d(ag::Variable(x), ag::Variable(w.to(kGpu)), p),
      Catch::Contains("conv3d") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
}
