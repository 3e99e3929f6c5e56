// dense on CUDA (cuBLASLt) against the CPU (OpenBLAS): the kernels with NaN-poisoned outputs at odd
// sizes, with and without bias, Cin = 0, operands at unaligned offsets (views into a flat buffer),
// each gradient alone; the TF32 switch; the autograd function with leading axes on both devices;
// and the error for operands on different devices.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/dense.h"
#include "autograd/tape.h"
#include "engine/runtime_flags.h"
#include "kernels/dense/dense.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {


// A copy of t on the GPU at element offset `offset` inside a larger buffer (offset 1: only
// 4-byte (f32) or 8-byte (f64) aligned, as parameter views in the flat buffer can be).
Tensor gpu_at_offset(const Tensor& t, int64_t offset) {
  Tensor buf = Tensor::zeros(Shape{t.numel() + offset}, t.dtype(), kGpu);
  Tensor v = buf.narrow0(offset, t.numel()).reshape(t.shape());
  v.copy_from(t);
  return v;
}

// Restores the TF32 switch when a test leaves.
struct Tf32Guard {
  bool saved = allow_tf32();
  ~Tf32Guard() { set_allow_tf32(saved); }
};

struct DenseCase {
  int64_t M, Cin, Cout;
};

template <class T>
void check_kernels(const DenseCase& c, bool bias, int64_t offset, uint64_t& seed, double tol) {
  const DType dt = dtype_of<T>();
  const Tensor x = test::random_uniform(Shape{c.M, c.Cin}, ++seed, -1, 1, dt);
  const Tensor w = test::random_uniform(Shape{c.Cout, c.Cin}, ++seed, -1, 1, dt);
  const Tensor b = test::random_uniform(Shape{c.Cout}, ++seed, -1, 1, dt);
  const Tensor gy = test::random_uniform(Shape{c.M, c.Cout}, ++seed, -1, 1, dt);
  const Tensor xd = gpu_at_offset(x, offset), wd = gpu_at_offset(w, offset);
  const Tensor bd = gpu_at_offset(b, offset), gyd = gpu_at_offset(gy, offset);

  Tensor y = Tensor::empty(Shape{c.M, c.Cout}, dt);
  kernels::dense_forward_cpu<T>(x.data<T>(), w.data<T>(), bias ? b.data<T>() : nullptr, c.M, c.Cin,
                                c.Cout, y.data<T>());
  Tensor yd = poisoned(Shape{c.M, c.Cout}, dt);
  kernels::dense_forward_cuda<T>(xd.data<T>(), wd.data<T>(), bias ? bd.data<T>() : nullptr, c.M,
                                 c.Cin, c.Cout, yd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, tol, tol);

  Tensor gx = Tensor::empty(x.shape(), dt), gw = Tensor::empty(w.shape(), dt);
  Tensor gb = Tensor::empty(b.shape(), dt);
  kernels::dense_backward_cpu<T>(gy.data<T>(), x.data<T>(), w.data<T>(), c.M, c.Cin, c.Cout,
                                 gx.data<T>(), gw.data<T>(), gb.data<T>());
  // All three at once, then each alone (the others null).
  for (int which = 0; which < 4; ++which) {
    INFO("gradients " << (which == 0 ? "all" : which == 1 ? "dx" : which == 2 ? "dw" : "db"));
    Tensor gxd = poisoned(x.shape(), dt), gwd = poisoned(w.shape(), dt);
    Tensor gbd = poisoned(b.shape(), dt);
    kernels::dense_backward_cuda<T>(gyd.data<T>(), xd.data<T>(), wd.data<T>(), c.M, c.Cin, c.Cout,
                                    which <= 1 ? gxd.data<T>() : nullptr,
                                    which == 0 || which == 2 ? gwd.data<T>() : nullptr,
                                    which == 0 || which == 3 ? gbd.data<T>() : nullptr, 0);
    if (which <= 1) ASN_REQUIRE_CLOSE(gxd, gx, tol, tol);
    if (which == 0 || which == 2) ASN_REQUIRE_CLOSE(gwd, gw, tol, tol);
    if (which == 0 || which == 3) ASN_REQUIRE_CLOSE(gbd, gb, tol, tol);
    // A gradient not asked for is left untouched.
    if (which == 2 || which == 3) {
      for (double v : gxd.to_vector<double>()) REQUIRE(std::isnan(v));
    }
  }
}

const std::vector<DenseCase> kCases = {{7, 5, 3},    {1, 1, 1},   {33, 17, 1}, {300, 64, 37},
                                       {129, 3, 65}, {2, 257, 9}, {5, 0, 4},   {1000, 96, 157}};

}  // namespace

TEST_CASE("cuda dense: cuBLASLt kernels match the CPU (outputs poisoned)", "[cuda][dense]") {
  Tf32Guard guard;
  set_allow_tf32(false);
  uint64_t seed = 10100;
  for (const DenseCase& c : kCases) {
    for (bool bias : {true, false}) {
      for (int64_t offset : {0, 1}) {
        INFO("M " << c.M << " Cin " << c.Cin << " Cout " << c.Cout << " bias " << bias << " offset "
                  << offset);
        check_kernels<float>(c, bias, offset, seed, 1e-5);
        check_kernels<double>(c, bias, offset, seed, 1e-12);
      }
    }
  }
}

// (With TF32 off, the 1e-5 agreement of the test above at Cin up to 257 would fail if cuBLASLt
// rounded the inputs to TF32: that is what shows TF32 stays off unless allowed.)
TEST_CASE("cuda dense: with TF32 allowed, exact on TF32-representable inputs, close otherwise",
          "[cuda][dense]") {
  Tf32Guard guard;
  // Multiples of 1/8 in [-1, 1] lose nothing in TF32 (10-bit mantissa), and their products and
  // short sums are exact in f32: with TF32 on, the result still equals the CPU's.
  auto eighths = [](const Shape& s, uint64_t seed) {
    Tensor t = test::random_uniform(s, seed, -8, 9, DType::f32);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::floor(p[i]) / 8.0f;
    return t;
  };
  const Tensor x = eighths(Shape{65, 24}, 10300), w = eighths(Shape{19, 24}, 10301);
  Variable yc = dense(Variable(x), Variable(w));
  for (bool tf32 : {false, true}) {
    INFO("allow_tf32 " << tf32);
    set_allow_tf32(tf32);
    Variable yg = dense(Variable(x.to(kGpu)), Variable(w.to(kGpu)));
    ASN_REQUIRE_CLOSE(yg.value(), yc.value(), 1e-6, 1e-6);
  }
  // Generic inputs with TF32 on: within the TF32 tolerance for a short reduction (Cin = 8).
  set_allow_tf32(true);
  const Tensor x2 = test::random_uniform(Shape{40, 8}, 10302, -1, 1, DType::f32);
  const Tensor w2 = test::random_uniform(Shape{11, 8}, 10303, -1, 1, DType::f32);
  Variable y2c = dense(Variable(x2), Variable(w2));
  Variable y2g = dense(Variable(x2.to(kGpu)), Variable(w2.to(kGpu)));
  ASN_REQUIRE_CLOSE(y2g.value(), y2c.value(), 3e-3, 3e-3);
}

TEST_CASE("cuda dense: autograd with leading axes equals the CPU's", "[cuda][dense]") {
  Tf32Guard guard;
  set_allow_tf32(false);
  uint64_t seed = 10500;
  const std::vector<Shape> xshapes = {Shape{2, 3, 5, 5, 16}, Shape{4, 16}, Shape{16},
                                      Shape{1, 1, 7, 16}};
  for (const Shape& xs : xshapes) {
    for (DType dt : {DType::f32, DType::f64}) {
      for (bool bias : {true, false}) {
        INFO(xs.str() << " " << dtype_name(dt) << " bias " << bias);
        const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
        const Tensor x = test::random_uniform(xs, ++seed, -1, 1, dt);
        const Tensor w = test::random_uniform(Shape{9, 16}, ++seed, -1, 1, dt);
        const Tensor b = test::random_uniform(Shape{9}, ++seed, -1, 1, dt);
        const Tensor g = test::random_uniform(xs.with(-1, 9), ++seed, -1, 1, dt);
        auto run = [&](Device dev, std::vector<Variable>& leaves) {
          leaves = {Variable(x.to(dev), true), Variable(w.to(dev), true),
                    Variable(b.to(dev), true)};
          Variable y = dense(leaves[0], leaves[1], bias ? leaves[2] : Variable());
          backward(y, g.to(dev));
          return y.value();
        };
        std::vector<Variable> lc, lg;
        const Tensor yc = run(Device::cpu(), lc);
        const Tensor yg = run(kGpu, lg);
        REQUIRE(yg.device() == kGpu);
        ASN_REQUIRE_CLOSE(yg, yc, tol, tol);
        for (int k = 0; k < (bias ? 3 : 2); ++k) {
          INFO("input " << k);
          REQUIRE(lg[static_cast<size_t>(k)].grad().device() == kGpu);
          ASN_REQUIRE_CLOSE(lg[static_cast<size_t>(k)].grad(), lc[static_cast<size_t>(k)].grad(),
                            tol, tol);
        }
      }
    }
  }
}

TEST_CASE("cuda dense: operands on different devices name the op and both devices",
          "[cuda][dense]") {
  const Tensor x = test::random_uniform(Shape{4, 3}, 10700, -1, 1, DType::f32);
  const Tensor w = test::random_uniform(Shape{2, 3}, 10701, -1, 1, DType::f32);
  const Tensor b = test::random_uniform(Shape{2}, 10702, -1, 1, DType::f32);
  REQUIRE_THROWS_WITH(dense(Variable(x.to(kGpu)), Variable(w)),
                      Catch::Contains("dense") && Catch::Contains("weight") &&
                          Catch::Contains("(2, 3) on cpu") && Catch::Contains("(4, 3) on cuda:0"));
  REQUIRE_THROWS_WITH(dense(Variable(x.to(kGpu)), Variable(w.to(kGpu)), Variable(b)),
                      Catch::Contains("dense") && Catch::Contains("bias") &&
                          Catch::Contains("cpu") && Catch::Contains("cuda:0"));
}
