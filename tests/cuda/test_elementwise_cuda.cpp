// CUDA elementwise family against the CPU: relu, sigmoid, softmax (forward and backward);
// broadcasting add / sub / mul (forward, and the gradient of each operand over every broadcast
// pattern: none, innermost axis kept, innermost axis reduced, a single element, alternating axes,
// reductions split into chunks); add_n (more inputs than one launch takes); scale; scale_by (dx and
// ds). Kernel-level checks poison the outputs with NaN and run 16-byte-aligned (packed) and
// misaligned (unpacked) buffers; autograd-level checks run forward and backward on both devices
// with the same seed gradient. Mixing CPU and CUDA operands throws naming the op and both devices.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"
#include "autograd/tape.h"
#include "kernels/elementwise/activations.h"
#include "kernels/elementwise/broadcast.h"
#include "kernels/elementwise/scale.h"
#include "tests/support/compare.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;
using kernels::BinaryOp;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

// docs/testing.md: CUDA f32 against CPU f32 1e-6 elementwise, 1e-5 reductions; f64 far tighter.
template <class T>
double elementwise_tol() {
  return sizeof(T) == 4 ? 1e-6 : 1e-12;
}
template <class T>
double reduction_tol() {
  return sizeof(T) == 4 ? 1e-5 : 1e-10;
}

// Same values bit for bit (a NaN left by an unwritten element never compares equal).

// ---- activations
// ---------------------------------------------------------------------------------

template <class T>
void check_relu_sigmoid(int64_t n, int64_t misalign, uint64_t seed) {
  INFO("n " << n << " misalign " << misalign << " " << dtype_name(dtype_of<T>()));
  const DType dt = dtype_of<T>();
  const Shape s{n};
  const Tensor x = test::random_away_from_zero(s, seed, 0.05, 8.0, dt);
  const Tensor dy = test::random_uniform(s, seed + 1, -1, 1, dt);
  const Tensor xd = on_gpu(x, misalign), dyd = on_gpu(dy, misalign);

  // ReLU is exact: bitwise equal.
  Tensor y = Tensor::empty(s, dt);
  kernels::relu_forward_cpu<T>(x.data<T>(), y.data<T>(), n);
  Tensor yd = poisoned(s, dt, misalign);
  kernels::relu_forward_cuda<T>(xd.data<T>(), yd.data<T>(), n, 0);
  REQUIRE(bitwise_equal(yd, y));
  Tensor dx = Tensor::empty(s, dt);
  kernels::relu_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), n);
  Tensor dxd = poisoned(s, dt, misalign);
  kernels::relu_backward_cuda<T>(dyd.data<T>(), on_gpu(y, misalign).data<T>(), dxd.data<T>(), n, 0);
  REQUIRE(bitwise_equal(dxd, dx));

  // Sigmoid: exp differs by an ulp or two between the libraries.
  kernels::sigmoid_forward_cpu<T>(x.data<T>(), y.data<T>(), n);
  yd = poisoned(s, dt, misalign);
  kernels::sigmoid_forward_cuda<T>(xd.data<T>(), yd.data<T>(), n, 0);
  ASN_REQUIRE_CLOSE(yd, y, elementwise_tol<T>(), elementwise_tol<T>());
  kernels::sigmoid_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), n);
  dxd = poisoned(s, dt, misalign);
  kernels::sigmoid_backward_cuda<T>(dyd.data<T>(), on_gpu(y, misalign).data<T>(), dxd.data<T>(), n,
                                    0);
  ASN_REQUIRE_CLOSE(dxd, dx, elementwise_tol<T>(), elementwise_tol<T>());
}

template <class T>
void check_softmax(int64_t rows, int64_t cols, int64_t misalign, uint64_t seed) {
  INFO("rows " << rows << " cols " << cols << " misalign " << misalign << " "
               << dtype_name(dtype_of<T>()));
  const DType dt = dtype_of<T>();
  const Shape s{rows, cols};
  const Tensor x = test::random_uniform(s, seed, -20, 20, dt);  // large logits: stability
  const Tensor dy = test::random_uniform(s, seed + 1, -1, 1, dt);
  Tensor y = Tensor::empty(s, dt), dx = Tensor::empty(s, dt);
  kernels::softmax_forward_cpu<T>(x.data<T>(), y.data<T>(), rows, cols);
  kernels::softmax_backward_cpu<T>(dy.data<T>(), y.data<T>(), dx.data<T>(), rows, cols);
  Tensor yd = poisoned(s, dt, misalign), dxd = poisoned(s, dt, misalign);
  kernels::softmax_forward_cuda<T>(on_gpu(x, misalign).data<T>(), yd.data<T>(), rows, cols, 0);
  ASN_REQUIRE_CLOSE(yd, y, elementwise_tol<T>(), elementwise_tol<T>());
  kernels::softmax_backward_cuda<T>(on_gpu(dy, misalign).data<T>(), on_gpu(y, misalign).data<T>(),
                                    dxd.data<T>(), rows, cols, 0);
  ASN_REQUIRE_CLOSE(dxd, dx, elementwise_tol<T>(), elementwise_tol<T>());
}

// ---- broadcasting binary ops
// ---------------------------------------------------------------------

// Shape pairs (a, b) covering every path of the CUDA kernels.
const std::pair<Shape, Shape> kPairs[] = {
    {Shape{2, 3, 5, 3, 4}, Shape{2, 3, 5, 3, 4}},  // same shape: flat, no reduction
    {Shape{2, 3, 37, 41, 16},
     Shape{2, 3, 1, 1, 16}},  // gate (N, T, 1, 1, C): innermost kept, chunks
    {Shape{2, 3, 1, 1, 16}, Shape{2, 3, 37, 41, 16}},  // the gate on the left
    {Shape{1, 1, 1, 1, 12}, Shape{4, 5, 33, 31, 12}},  // per-channel vector: long chunked reduction
    {Shape{2, 1, 45, 31, 1}, Shape{2, 1, 45, 31, 24}},  // T = 1, per-position scalar: innermost
                                                        // reduced (warp lanes)
    {Shape{1, 1, 1}, Shape{64, 65, 66}},                // a single element: all reduced, chunked
    {Shape{3, 1, 1}, Shape{3, 1000, 333}},              // few targets, one long reduced run each
    {Shape{4, 1, 6, 1, 5}, Shape{1, 3, 1, 7, 1}},  // alternating kept / reduced axes on both sides
    {Shape{2, 1, 5}, Shape{1, 3, 1}},
    {Shape{7}, Shape{1}},
    {Shape{1, 5}, Shape{3, 1}},
    {Shape{5, 7, 9}, Shape{5, 7, 9}},  // same shape, odd sizes (no packs)
};

template <class T>
void check_binary(BinaryOp op, const Shape& sa, const Shape& sb, int64_t misalign, uint64_t seed) {
  const DType dt = dtype_of<T>();
  const Tensor a = test::random_uniform(sa, seed, -2, 2, dt);
  const Tensor b = test::random_uniform(sb, seed + 1, -2, 2, dt);
  const kernels::BroadcastPlan plan = kernels::make_broadcast_plan(sa, sb);
  const Shape so = kernels::broadcast_shape(sa, sb);
  const Tensor ad = on_gpu(a, misalign), bd = on_gpu(b, misalign);

  // Forward: one IEEE operation per element, so bitwise equal.
  Tensor out = Tensor::empty(so, dt);
  kernels::binary_forward_cpu<T>(op, plan, a.data<T>(), b.data<T>(), out.data<T>());
  Tensor outd = poisoned(so, dt, misalign);
  kernels::binary_forward_cuda<T>(op, plan, ad.data<T>(), bd.data<T>(), outd.data<T>(), 0);
  REQUIRE(bitwise_equal(outd, out));

  // Gradients of both operands (reductions in double on both devices).
  const Tensor dout = test::random_uniform(so, seed + 2, -1, 1, dt);
  const Tensor doutd = on_gpu(dout, misalign);
  for (int which = 0; which < 2; ++which) {
    INFO("gradient of operand " << which);
    const Shape& st = which == 0 ? sa : sb;
    Tensor g = Tensor::empty(st, dt);
    kernels::binary_backward_cpu<T>(op, which, plan, dout.data<T>(), a.data<T>(), b.data<T>(),
                                    g.data<T>());
    Tensor gd = poisoned(st, dt, misalign);
    kernels::binary_backward_cuda<T>(op, which, plan, doutd.data<T>(), ad.data<T>(), bd.data<T>(),
                                     gd.data<T>(), 0);
    ASN_REQUIRE_CLOSE(gd, g, reduction_tol<T>(), reduction_tol<T>());
  }
}

using BinaryFn = Variable (*)(const Variable&, const Variable&);

struct Outputs {
  Tensor out, da, db;
};

Outputs run_binary(BinaryFn f, const Tensor& a, const Tensor& b, const Tensor& dout) {
  tape().clear();
  Variable va(a, true, "a"), vb(b, true, "b");
  Variable out = f(va, vb);
  backward(out, dout);
  return {out.value(), va.grad(), vb.grad()};
}

}  // namespace

TEST_CASE("cuda elementwise: relu and sigmoid kernels match the CPU (poisoned, packed and not)",
          "[cuda][elementwise][activations]") {
  uint64_t seed = 101;
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{5}, int64_t{1001}, int64_t{65537},
                    (int64_t{1} << 20) + 3}) {
    for (int64_t misalign : {0, 1}) {
      check_relu_sigmoid<float>(n, misalign, seed += 2);
      check_relu_sigmoid<double>(n, misalign, seed += 2);
    }
  }
}

TEST_CASE("cuda elementwise: softmax kernels match the CPU on short, long and single-column rows",
          "[cuda][elementwise][activations]") {
  const std::pair<int64_t, int64_t> sizes[] = {{1, 1},    {3, 7},     {5, 33}, {129, 400},
                                               {2, 2049}, {4096, 10}, {7, 1},  {1, 157}};
  uint64_t seed = 301;
  for (const auto& rc : sizes) {
    for (int64_t misalign : {0, 1}) {
      check_softmax<float>(rc.first, rc.second, misalign, seed += 2);
      check_softmax<double>(rc.first, rc.second, misalign, seed += 2);
    }
  }
}

TEST_CASE("cuda elementwise: broadcast add / sub / mul forward and both gradients match the CPU",
          "[cuda][elementwise]") {
  uint64_t seed = 501;
  for (const auto& pair : kPairs) {
    for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul}) {
      for (int64_t misalign : {0, 1}) {
        INFO("a " << pair.first.str() << " b " << pair.second.str() << " op "
                  << static_cast<int>(op) << " misalign " << misalign);
        check_binary<float>(op, pair.first, pair.second, misalign, seed += 3);
        check_binary<double>(op, pair.first, pair.second, misalign, seed += 3);
      }
    }
  }
}

TEST_CASE("cuda elementwise: broadcast ops through autograd, forward and backward on both devices",
          "[cuda][elementwise]") {
  const std::pair<const char*, BinaryFn> ops[] = {{"add", &add}, {"sub", &sub}, {"mul", &mul}};
  uint64_t seed = 701;
  for (const auto& pair : kPairs) {
    for (const auto& op : ops) {
      INFO(op.first << " a " << pair.first.str() << " b " << pair.second.str());
      const Tensor a = test::random_uniform(pair.first, seed += 3, -2, 2, DType::f32);
      const Tensor b = test::random_uniform(pair.second, seed + 1, -2, 2, DType::f32);
      const Shape so = kernels::broadcast_shape(pair.first, pair.second);
      const Tensor dout = test::random_uniform(so, seed + 2, -1, 1, DType::f32);
      const Outputs c = run_binary(op.second, a, b, dout);
      const Outputs g = run_binary(op.second, a.to(kGpu), b.to(kGpu), dout.to(kGpu));
      REQUIRE(g.out.device() == kGpu);
      REQUIRE(g.da.device() == kGpu);
      REQUIRE(g.db.device() == kGpu);
      REQUIRE(bitwise_equal(g.out, c.out));
      ASN_REQUIRE_CLOSE(g.da, c.da, 1e-5, 1e-5);
      ASN_REQUIRE_CLOSE(g.db, c.db, 1e-5, 1e-5);
    }
  }
}

TEST_CASE("cuda elementwise: activations through autograd, (N, T, H, W, C) and (N, K), T = 1",
          "[cuda][elementwise][activations]") {
  using UnaryFn = Variable (*)(const Variable&);
  const std::pair<const char*, UnaryFn> fns[] = {
      {"relu", &relu}, {"sigmoid", &sigmoid}, {"softmax", &softmax}};
  const Shape shapes[] = {Shape{2, 3, 5, 7, 9}, Shape{3, 1, 4, 4, 16}, Shape{5, 157}};
  uint64_t seed = 901;
  for (const auto& fn : fns) {
    for (const Shape& s : shapes) {
      INFO(fn.first << " " << s.str());
      const Tensor x = test::random_away_from_zero(s, seed += 2, 0.05, 4.0, DType::f32);
      const Tensor dy = test::random_uniform(s, seed + 1, -1, 1, DType::f32);
      Tensor outs[2], grads[2];
      for (int d = 0; d < 2; ++d) {
        tape().clear();
        Variable vx(d == 0 ? x : x.to(kGpu), true, "x");
        Variable y = fn.second(vx);
        backward(y, d == 0 ? dy : dy.to(kGpu));
        outs[d] = y.value();
        grads[d] = vx.grad();
      }
      REQUIRE(outs[1].device() == kGpu);
      REQUIRE(grads[1].device() == kGpu);
      ASN_REQUIRE_CLOSE(outs[1], outs[0], 1e-6, 1e-6);
      ASN_REQUIRE_CLOSE(grads[1], grads[0], 1e-6, 1e-6);
    }
  }
}

TEST_CASE("cuda elementwise: add_n adds in input order (bitwise), also past one launch's inputs",
          "[cuda][elementwise]") {
  uint64_t seed = 1101;
  for (int count : {1, 2, 5, 16, 17, 40}) {
    for (int64_t misalign : {0, 1}) {
      INFO("count " << count << " misalign " << misalign);
      const int64_t n = 10007;
      std::vector<Tensor> xs, xds;
      std::vector<const float*> px, pxd;
      for (int i = 0; i < count; ++i) {
        xs.push_back(test::random_uniform(Shape{n}, seed += 1, -3, 3, DType::f32));
        xds.push_back(on_gpu(xs.back(), misalign));
        px.push_back(xs.back().data<float>());
        pxd.push_back(xds.back().data<float>());
      }
      Tensor y = Tensor::empty(Shape{n}, DType::f32);
      kernels::add_n_cpu<float>(px.data(), count, y.data<float>(), n);
      Tensor yd = poisoned(Shape{n}, DType::f32, misalign);
      kernels::add_n_cuda<float>(pxd.data(), count, yd.data<float>(), n, 0);
      REQUIRE(bitwise_equal(yd, y));
    }
  }
  // Through autograd: every input's gradient is the output gradient.
  std::vector<Variable> vc, vg;
  for (int i = 0; i < 3; ++i) {
    const Tensor x = test::random_uniform(Shape{2, 1, 3, 5, 8}, seed += 1, -1, 1, DType::f32);
    vc.emplace_back(x, true, "x");
    vg.emplace_back(x.to(kGpu), true, "x");
  }
  const Tensor dy = test::random_uniform(Shape{2, 1, 3, 5, 8}, seed + 1, -1, 1, DType::f32);
  tape().clear();
  Variable yc = add_n(vc);
  backward(yc, dy);
  Variable yg = add_n(vg);
  backward(yg, dy.to(kGpu));
  REQUIRE(bitwise_equal(yg.value(), yc.value()));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(vg[static_cast<size_t>(i)].grad().device() == kGpu);
    REQUIRE(bitwise_equal(vg[static_cast<size_t>(i)].grad(), dy));
  }
}

TEST_CASE("cuda elementwise: scale, scale_by and scale_by's ds match the CPU",
          "[cuda][elementwise]") {
  uint64_t seed = 1301;
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{4099}, (int64_t{1} << 20) + 7}) {
    for (int64_t misalign : {0, 1}) {
      INFO("n " << n << " misalign " << misalign);
      const Tensor x = test::random_uniform(Shape{n}, seed += 2, -2, 2, DType::f32);
      const Tensor b = test::random_uniform(Shape{n}, seed + 1, -2, 2, DType::f32);
      const Tensor xd = on_gpu(x, misalign), bd = on_gpu(b, misalign);
      const float alpha = -0.37f;
      Tensor y = Tensor::empty(Shape{n}, DType::f32);
      kernels::scale_cpu<float>(x.data<float>(), alpha, y.data<float>(), n);
      Tensor yd = poisoned(Shape{n}, DType::f32, misalign);
      kernels::scale_cuda<float>(xd.data<float>(), alpha, yd.data<float>(), n, 0);
      REQUIRE(bitwise_equal(yd, y));
      // scale_by with the scalar in device memory; in place (y == x) as well.
      const Tensor sd = Tensor::full(Shape{1}, alpha, DType::f32, kGpu);
      yd = poisoned(Shape{n}, DType::f32, misalign);
      kernels::scale_by_cuda<float>(xd.data<float>(), sd.data<float>(), yd.data<float>(), n, 0);
      REQUIRE(bitwise_equal(yd, y));
      Tensor inplace = on_gpu(x, misalign);
      kernels::scale_by_cuda<float>(inplace.data<float>(), sd.data<float>(), inplace.data<float>(),
                                    n, 0);
      REQUIRE(bitwise_equal(inplace, y));
      // ds = sum(dy * x), accumulated in double, rounded to f32.
      const double dot = kernels::dot_cpu<float>(x.data<float>(), b.data<float>(), n);
      Tensor dotd = Tensor::full(Shape{1}, NAN, DType::f32, kGpu);
      kernels::dot_cuda<float>(xd.data<float>(), bd.data<float>(), n, dotd.data<float>(), 0);
      ASN_REQUIRE_CLOSE(dotd, Tensor::full(Shape{1}, static_cast<float>(dot), DType::f32), 1e-5,
                        1e-5);
      Tensor dotd64 = Tensor::full(Shape{1}, NAN, DType::f64, kGpu);
      const Tensor x64 = x.to(DType::f64), b64 = b.to(DType::f64);
      kernels::dot_cuda<double>(on_gpu(x64, misalign).data<double>(),
                                on_gpu(b64, misalign).data<double>(), n, dotd64.data<double>(), 0);
      REQUIRE(dotd64.item() ==
              Approx(kernels::dot_cpu<double>(x64.data<double>(), b64.data<double>(), n))
                  .epsilon(1e-12)
                  .margin(1e-12));
    }
  }
}

TEST_CASE("cuda elementwise: scale and scale_by through autograd, gradients to x and s",
          "[cuda][elementwise]") {
  const Tensor x = test::random_uniform(Shape{2, 3, 7, 5, 12}, 1501, -1, 1, DType::f32);
  const Tensor dy = test::random_uniform(Shape{2, 3, 7, 5, 12}, 1502, -1, 1, DType::f32);
  const Tensor s = Tensor::full(Shape{1}, 0.6180339887, DType::f32);
  Tensor y[2], dx[2], ds[2], y2[2], dx2[2];
  for (int d = 0; d < 2; ++d) {
    const Device dev = d == 0 ? Device::cpu() : kGpu;
    tape().clear();
    // Clones: to(cpu) of a CPU tensor is the tensor itself, and s is overwritten below.
    Variable vx(x.to(dev).clone(), true, "x"), vs(s.to(dev).clone(), true, "s");
    Variable out = scale_by(vx, vs);
    // The forward-time value of s is what backward uses, even if s changes afterwards.
    Tensor sv = vs.value();
    sv.fill(5.0);
    backward(out, dy.to(dev));
    y[d] = out.value();
    dx[d] = vx.grad();
    ds[d] = vs.grad();
    tape().clear();
    Variable vx2(x.to(dev), true, "x");
    Variable out2 = scale(vx2, -1.75);
    backward(out2, dy.to(dev));
    y2[d] = out2.value();
    dx2[d] = vx2.grad();
  }
  REQUIRE(ds[1].device() == kGpu);
  REQUIRE(bitwise_equal(y[1], y[0]));
  REQUIRE(bitwise_equal(dx[1], dx[0]));
  ASN_REQUIRE_CLOSE(ds[1], ds[0], 1e-5, 1e-5);
  REQUIRE(bitwise_equal(y2[1], y2[0]));
  REQUIRE(bitwise_equal(dx2[1], dx2[0]));
}

TEST_CASE("cuda elementwise: mixing CPU and CUDA operands names the op and both devices",
          "[cuda][elementwise]") {
  const Variable c(test::random_uniform(Shape{2, 3}, 1601, -1, 1, DType::f32));
  const Variable g(test::random_uniform(Shape{2, 3}, 1602, -1, 1, DType::f32).to(kGpu));
  const Variable sg(Tensor::full(Shape{1}, 2.0, DType::f32, kGpu));
  // e.g. "add: b is f32 (2, 3) on cuda:0 but a is f32 (2, 3) on cpu (dtype and device must match)"
  REQUIRE_THROWS_WITH(add(c, g), Catch::Contains("add:") && Catch::Contains("on cpu") &&
                                     Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(sub(g, c), Catch::Contains("sub:") && Catch::Contains("on cpu") &&
                                     Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(mul(c, g), Catch::Contains("mul:") && Catch::Contains("on cpu") &&
                                     Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(add_n({g, c}), Catch::Contains("add_n:") && Catch::Contains("on cpu") &&
                                         Catch::Contains("on cuda:0"));
  REQUIRE_THROWS_WITH(scale_by(c, sg), Catch::Contains("scale_by:") && Catch::Contains("on cpu") &&
                                           Catch::Contains("on cuda:0"));
}
