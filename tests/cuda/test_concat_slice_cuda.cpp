// concat / slice on CUDA against the CPU: the kernels with NaN-poisoned outputs along every axis,
// with row lengths and offsets that select each access width (16, 8 and 4 bytes), the autograd
// functions' forward and backward on both devices, and the error for inputs on different devices.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/concat_slice.h"
#include "autograd/tape.h"
#include "kernels/shape/concat.h"
#include "kernels/shape/slice.h"
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


struct ConcatCase {
  std::string name;
  std::vector<Shape> ins;
  int axis;
};

std::vector<ConcatCase> concat_cases() {
  return {
      {"channels 4 + 8 + 12 (16-byte rows)",
       {{2, 3, 5, 5, 4}, {2, 3, 5, 5, 8}, {2, 3, 5, 5, 12}},
       -1},
      {"channels 3 + 5 + 1 (4-byte rows)", {{2, 1, 4, 3, 3}, {2, 1, 4, 3, 5}, {2, 1, 4, 3, 1}}, 4},
      {"channels 2 + 6 (8-byte rows in f32)", {{3, 2, 7, 2}, {3, 2, 7, 6}}, 3},
      {"time axis, T = 1 pieces", {{2, 1, 3, 3, 5}, {2, 1, 3, 3, 5}, {2, 2, 3, 3, 5}}, 1},
      {"batch axis (whole blocks)", {{1, 2, 3, 3, 4}, {3, 2, 3, 3, 4}}, 0},
      {"height, odd sizes", {{2, 2, 3, 5, 7}, {2, 2, 4, 5, 7}}, 2},
  };
}

template <class T>
void check_concat_kernel(const ConcatCase& c, uint64_t& seed, DType dt) {
  const int rank = c.ins[0].rank();
  const int a = c.axis < 0 ? c.axis + rank : c.axis;
  std::vector<Tensor> xs, xds;
  std::vector<int64_t> lens;
  int64_t total = 0;
  for (const Shape& s : c.ins) {
    xs.push_back(test::random_uniform(s, ++seed, -1, 1, dt));
    xds.push_back(xs.back().to(kGpu));
    lens.push_back(s[a]);
    total += s[a];
  }
  const int64_t outer = c.ins[0].prod(0, a), inner = c.ins[0].prod(a + 1, rank);
  const Shape out = c.ins[0].with(a, total);
  std::vector<const T*> ps, pds;
  for (size_t k = 0; k < xs.size(); ++k) {
    ps.push_back(xs[k].data<T>());
    pds.push_back(xds[k].data<T>());
  }
  Tensor y = Tensor::empty(out, dt);
  kernels::concat_forward_cpu<T>(ps, lens, outer, inner, y.data<T>());
  Tensor yd = poisoned(out, dt);
  kernels::concat_forward_cuda<T>(pds, lens, outer, inner, yd.data<T>(), 0);
  ASN_REQUIRE_CLOSE(yd, y, 0, 0);

  // Slices of the result: forward (poisoned) and the zero-filling backward (poisoned).
  int64_t start = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Shape piece = out.with(a, lens[k]);
    Tensor sd = poisoned(piece, dt);
    kernels::slice_forward_cuda<T>(yd.data<T>(), outer, total, inner, start, lens[k], sd.data<T>(),
                                   0);
    ASN_REQUIRE_CLOSE(sd, xs[k], 0, 0);
    const Tensor gy = test::random_uniform(piece, ++seed, -1, 1, dt);
    const Tensor gyd = gy.to(kGpu);
    Tensor gx = Tensor::empty(out, dt);
    kernels::slice_backward_cpu<T>(gy.data<T>(), outer, total, inner, start, lens[k], gx.data<T>());
    Tensor gxd = poisoned(out, dt);
    kernels::slice_backward_cuda<T>(gyd.data<T>(), outer, total, inner, start, lens[k],
                                    gxd.data<T>(), 0);
    ASN_REQUIRE_CLOSE(gxd, gx, 0, 0);
    start += lens[k];
  }
}

}  // namespace

TEST_CASE("cuda concat_slice: kernels match the CPU (outputs poisoned)", "[cuda][concat_slice]") {
  uint64_t seed = 9100;
  for (const ConcatCase& c : concat_cases()) {
    INFO(c.name);
    check_concat_kernel<float>(c, seed, DType::f32);
    check_concat_kernel<double>(c, seed, DType::f64);
  }
}

TEST_CASE("cuda concat_slice: odd offsets and a view input take the narrow path",
          "[cuda][concat_slice]") {
  // A slice starting at an odd element: source rows are only 4-byte aligned.
  const Tensor x = test::random_uniform(Shape{3, 4, 9}, 9200, -1, 1, DType::f32);
  const Tensor xd = x.to(kGpu);
  for (int64_t start : {0, 1, 3, 4}) {
    for (int64_t count : {0, 1, 4, 5}) {
      if (start + count > 9) continue;
      INFO("start " << start << " count " << count);
      Tensor y = Tensor::empty(Shape{3, 4, count}, DType::f32);
      kernels::slice_forward_cpu<float>(x.data<float>(), 12, 9, 1, start, count, y.data<float>());
      Tensor yd = poisoned(Shape{3, 4, count}, DType::f32);
      kernels::slice_forward_cuda<float>(xd.data<float>(), 12, 9, 1, start, count, yd.data<float>(),
                                         0);
      ASN_REQUIRE_CLOSE(yd, y, 0, 0);
      Tensor gx = Tensor::empty(x.shape(), DType::f32);
      kernels::slice_backward_cpu<float>(y.data<float>(), 12, 9, 1, start, count, gx.data<float>());
      Tensor gxd = poisoned(x.shape(), DType::f32);
      kernels::slice_backward_cuda<float>(yd.data<float>(), 12, 9, 1, start, count,
                                          gxd.data<float>(), 0);
      ASN_REQUIRE_CLOSE(gxd, gx, 0, 0);
    }
  }
  // A concat input that is a view at an odd element offset (narrow0 of a flat buffer).
  const Tensor flat = test::random_uniform(Shape{1 + 2 * 3 * 4}, 9201, -1, 1, DType::f32).to(kGpu);
  const Tensor view = flat.narrow0(1, 24).reshape(Shape{2, 3, 4});
  const Tensor other = test::random_uniform(Shape{2, 3, 4}, 9202, -1, 1, DType::f32);
  Variable yd = concat({Variable(view), Variable(other.to(kGpu))}, 2);
  Variable yc = concat({Variable(view.to(Device::cpu())), Variable(other)}, 2);
  ASN_REQUIRE_CLOSE(yd.value(), yc.value(), 0, 0);
}

TEST_CASE("cuda concat_slice: autograd forward and backward equal the CPU's",
          "[cuda][concat_slice]") {
  uint64_t seed = 9300;
  for (const ConcatCase& c : concat_cases()) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(c.name << " " << dtype_name(dt));
      std::vector<Tensor> xs;
      for (const Shape& s : c.ins) xs.push_back(test::random_uniform(s, ++seed, -1, 1, dt));
      const uint64_t gseed = ++seed;
      // concat, then a slice straddling the first boundary, on each device.
      auto run = [&](Device dev, std::vector<Variable>& leaves) {
        for (const Tensor& x : xs) leaves.emplace_back(x.to(dev), true);
        Variable y = concat(leaves, c.axis);
        const int a = c.axis < 0 ? c.axis + y.value().rank() : c.axis;
        const int64_t len = y.shape()[a];
        Variable s = slice(y, c.axis, len / 3, len - len / 3 - 1 > 0 ? len - len / 3 - 1 : 1);
        const Tensor g = test::random_uniform(s.shape(), gseed, -1, 1, dt);
        backward(s, g.to(dev));
        return s.value();
      };
      std::vector<Variable> lc, lg;
      const Tensor sc = run(Device::cpu(), lc);
      const Tensor sg = run(kGpu, lg);
      REQUIRE(sg.device() == kGpu);
      ASN_REQUIRE_CLOSE(sg, sc, 0, 0);
      for (size_t k = 0; k < lc.size(); ++k) {
        INFO("input " << k);
        REQUIRE(lg[k].grad().device() == kGpu);
        ASN_REQUIRE_CLOSE(lg[k].grad(), lc[k].grad(), 0, 0);
      }
    }
  }
}

TEST_CASE("cuda concat_slice: inputs on different devices name the op and both devices",
          "[cuda][concat_slice]") {
  const Tensor a = test::random_uniform(Shape{2, 3}, 9400, -1, 1, DType::f32);
  const Tensor b = test::random_uniform(Shape{2, 3}, 9401, -1, 1, DType::f32).to(kGpu);
  REQUIRE_THROWS_WITH(concat({Variable(a), Variable(b)}, 1),
                      Catch::Contains("concat") && Catch::Contains("cpu") &&
                          Catch::Contains("cuda:0") && Catch::Contains("(2, 3)"));
}
