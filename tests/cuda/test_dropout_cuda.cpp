// CUDA dropout against the CPU: for the same (seed, offset, rate) the masks are bitwise equal to
// the CPU's and to the Philox definition (tests/oracles/dropout_oracle.h), and so are the scaled
// outputs, at sizes that end in every lane of a Philox block, with 64-bit seeds and offsets, packed
// (aligned) and unpacked (misaligned) buffers, NaN-poisoned outputs, and in place. Through
// autograd: the generator advances by one offset, forward and backward are bitwise equal to the
// CPU's.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "autograd/functions/dropout.h"
#include "autograd/tape.h"
#include "kernels/dropout/dropout.h"
#include "tests/oracles/dropout_oracle.h"
#include "tests/support/cuda_helpers.h"
#include "tests/support/random.h"

using namespace asn;
using namespace asn::ag;

using asn::test::bitwise_equal;
using asn::test::kGpu;
using asn::test::on_gpu;
using asn::test::poisoned;

namespace {

Tensor on_gpu(const Tensor& host, int64_t misalign = 0) {
  Tensor t = poisoned(host.shape(), host.dtype(), misalign);
  t.copy_from(host);
  return t;
}

// The kept elements of an output whose input had no zeros.
std::vector<bool> mask_of(const Tensor& y) {
  const std::vector<double> v = y.to_vector<double>();
  std::vector<bool> keep(v.size());
  for (size_t i = 0; i < v.size(); ++i) keep[i] = v[i] != 0.0;
  return keep;
}

template <class T>
void check_kernel(int64_t n, uint64_t seed, uint64_t offset, double rate, int64_t misalign) {
  INFO("n " << n << " seed " << seed << " offset " << offset << " rate " << rate << " misalign "
            << misalign << " " << dtype_name(dtype_of<T>()));
  const DType dt = dtype_of<T>();
  kernels::DropoutParams p;
  p.seed = seed;
  p.offset = offset;
  p.rate = rate;
  const Tensor x = test::random_away_from_zero(Shape{n}, seed ^ offset ^ 0x5eed, 0.1, 3.0, dt);
  Tensor y = Tensor::empty(Shape{n}, dt);
  kernels::dropout_apply_cpu<T>(p, x.data<T>(), y.data<T>(), n);
  Tensor yd = poisoned(Shape{n}, dt, misalign);
  kernels::dropout_apply_cuda<T>(p, on_gpu(x, misalign).data<T>(), yd.data<T>(), n, 0);
  // The masks, bit for bit: CUDA = CPU = the Philox definition.
  const std::vector<bool> mask_cuda = mask_of(yd);
  REQUIRE(mask_cuda == mask_of(y));
  REQUIRE(mask_cuda == oracle::dropout_mask(seed, offset, n, rate));
  // The outputs, bit for bit (one multiply by the same rounded scale).
  REQUIRE(yd.to_vector<double>() == y.to_vector<double>());
  // In place (y == x), as the backward may use it.
  Tensor inplace = on_gpu(x, misalign);
  kernels::dropout_apply_cuda<T>(p, inplace.data<T>(), inplace.data<T>(), n, 0);
  REQUIRE(inplace.to_vector<double>() == y.to_vector<double>());
}

}  // namespace

TEST_CASE("cuda dropout: masks and outputs bitwise equal to the CPU's and to the definition",
          "[cuda][dropout]") {
  const uint64_t big = (uint64_t{1} << 40) + 12345;  // exercises the high halves of seed / offset
  const std::pair<uint64_t, uint64_t> draws[] = {{0, 0}, {1234, 17}, {big, 3}, {7, big}};
  for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5}, int64_t{1023},
                    int64_t{100001}, (int64_t{1} << 20) + 2}) {
    for (const auto& d : draws) {
      for (double rate : {0.1, 0.5, 0.9}) {
        for (int64_t misalign : {0, 1}) {
          check_kernel<float>(n, d.first, d.second, rate, misalign);
          check_kernel<double>(n, d.first, d.second, rate, misalign);
        }
      }
    }
  }
}

TEST_CASE("cuda dropout: autograd forward and backward bitwise equal to the CPU, one offset each",
          "[cuda][dropout]") {
  const Shape shapes[] = {Shape{3, 1, 5, 7, 11}, Shape{32, 400}, Shape{1}};
  uint64_t seed = 4001;
  for (const Shape& s : shapes) {
    for (DType dt : {DType::f32, DType::f64}) {
      INFO(s.str() << " " << dtype_name(dt));
      const Tensor x = test::random_away_from_zero(s, seed += 2, 0.1, 2.0, dt);
      const Tensor dy = test::random_away_from_zero(s, seed + 1, 0.1, 2.0, dt);
      Tensor y[2], dx[2];
      for (int d = 0; d < 2; ++d) {
        const Device dev = d == 0 ? Device::cpu() : kGpu;
        tape().clear();
        Variable vx(x.to(dev), true, "x");
        Generator gen(77, 5);
        Variable out = dropout(vx, 0.3, gen, true);
        REQUIRE(gen.offset() == 6);
        gen.next_offset();  // a draw between forward and backward must not change the mask
        backward(out, dy.to(dev));
        y[d] = out.value();
        dx[d] = vx.grad();
      }
      REQUIRE(y[1].device() == kGpu);
      REQUIRE(dx[1].device() == kGpu);
      REQUIRE(mask_of(y[1]) == mask_of(y[0]));
      REQUIRE(y[1].to_vector<double>() == y[0].to_vector<double>());
      REQUIRE(dx[1].to_vector<double>() == dx[0].to_vector<double>());
      // Backward applies the forward's mask.
      REQUIRE(mask_of(dx[1]) == mask_of(y[1]));
    }
  }
}
