// CUDA runtime pieces of the engine: copies, fills, casts, the caching allocator (reuse, statistics,
// out-of-memory message), Philox fills identical to the CPU's, and tensor_ops reductions.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/allocator.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/tensor_ops.h"
#include "tests/support/random.h"

using namespace asn;

TEST_CASE("cuda engine: host/device round trip, fill and cast", "[cuda][engine]") {
  Tensor h = test::random_uniform(Shape{3, 5, 7}, 1, -2, 2, DType::f32);
  Tensor d = h.to(Device::cuda(0));
  REQUIRE(d.device().is_cuda());
  REQUIRE(d.to(Device::cpu()).to_vector<float>() == h.to_vector<float>());
  Tensor d2 = d.clone();
  REQUIRE_FALSE(d2.shares_storage_with(d));
  REQUIRE(d2.to_vector<float>() == h.to_vector<float>());
  d2.fill(3.5);
  for (float v : d2.to_vector<float>()) REQUIRE(v == 3.5f);
  Tensor b = d.to(DType::bf16);
  REQUIRE(b.to_vector<float>() == h.to(DType::bf16).to_vector<float>());
  Tensor f64 = d.to(DType::f64);
  REQUIRE(f64.to_vector<double>() == h.to(DType::f64).to_vector<double>());
  d2.zero();
  for (float v : d2.to_vector<float>()) REQUIRE(v == 0.0f);
}

TEST_CASE("cuda engine: caching allocator reuses blocks and keeps statistics", "[cuda][engine]") {
  Allocator& a = allocator_for(Device::cuda(0));
  a.empty_cache();
  const AllocatorStats s0 = a.stats();
  { Tensor t = Tensor::empty(Shape{1 << 20}, DType::f32, Device::cuda(0)); }  // 4 MiB, then freed
  const AllocatorStats s1 = a.stats();
  REQUIRE(s1.num_system_allocs == s0.num_system_allocs + 1);
  REQUIRE(s1.allocated_bytes == s0.allocated_bytes);
  REQUIRE(s1.reserved_bytes >= s0.reserved_bytes + (4 << 20));
  REQUIRE(s1.peak_allocated_bytes >= 4 << 20);
  { Tensor t = Tensor::empty(Shape{1 << 20}, DType::f32, Device::cuda(0)); }  // cache hit
  REQUIRE(a.stats().num_system_allocs == s1.num_system_allocs);
  a.empty_cache();  // nothing is live: every cached block goes back
  REQUIRE(a.stats().reserved_bytes == a.stats().allocated_bytes);
}

TEST_CASE("cuda engine: out-of-memory names the size, the op and the statistics", "[cuda][engine]") {
  OpScope scope("test_giant_alloc");
  try {
    Tensor t = Tensor::empty(Shape{int64_t{1} << 46}, DType::f32, Device::cuda(0));  // 256 TiB
    FAIL("allocation of 256 TiB succeeded");
  } catch (const OutOfMemoryError& e) {
    const std::string msg = e.what();
    REQUIRE_THAT(msg, Catch::Contains("out of memory") && Catch::Contains("test_giant_alloc") &&
                          Catch::Contains("281474976710656 bytes") && Catch::Contains("allocated"));
  }
}

TEST_CASE("cuda engine: Philox fills equal the CPU's", "[cuda][engine][rng]") {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor c = Tensor::empty(Shape{10007}, dt);
    Tensor g = Tensor::empty(Shape{10007}, dt, Device::cuda(0));
    Generator gc(99, 5), gg(99, 5);
    gc.fill_uniform(c, -3, 2);
    gg.fill_uniform(g, -3, 2);
    REQUIRE(g.to_vector<double>() == c.to_vector<double>());
    gc.fill_normal(c, 1, 2);
    gg.fill_normal(g, 1, 2);
    auto cv = c.to_vector<double>(), gv = g.to_vector<double>();
    for (size_t i = 0; i < cv.size(); ++i) REQUIRE(gv[i] == Approx(cv[i]).epsilon(1e-6).margin(1e-6));
    gc.fill_truncated_normal(c, 0, 1);
    gg.fill_truncated_normal(g, 0, 1);
    cv = c.to_vector<double>();
    gv = g.to_vector<double>();
    for (size_t i = 0; i < cv.size(); ++i) REQUIRE(gv[i] == Approx(cv[i]).epsilon(1e-6).margin(1e-6));
  }
}

TEST_CASE("cuda engine: tensor_ops on the device match the CPU", "[cuda][engine]") {
  Tensor x = test::random_uniform(Shape{4097}, 3, -1, 1, DType::f32);
  Tensor y = test::random_uniform(Shape{4097}, 4, -1, 1, DType::f32);
  Tensor xd = x.to(Device::cuda(0)), yd = y.to(Device::cuda(0));
  kernels::axpy_inplace(x, 0.5, y);
  kernels::axpy_inplace(xd, 0.5, yd);
  REQUIRE(xd.to_vector<float>() == x.to_vector<float>());
  kernels::scale_inplace(x, -2);
  kernels::scale_inplace(xd, -2);
  REQUIRE(xd.to_vector<float>() == x.to_vector<float>());
  REQUIRE(kernels::sum_squares(xd) == Approx(kernels::sum_squares(x)).epsilon(1e-12));
  REQUIRE(kernels::sum_all(xd) == Approx(kernels::sum_all(x)).epsilon(1e-10));
  REQUIRE(kernels::all_finite(xd));
  Tensor bad = Tensor::full(Shape{10}, NAN, DType::f32, Device::cuda(0));
  REQUIRE_FALSE(kernels::all_finite(bad));
}
