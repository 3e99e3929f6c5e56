// Tensor: construction, views without copies, copies, casts, error messages.
#include <catch2/catch.hpp>

#include "engine/tensor.h"

using namespace asn;

TEST_CASE("tensor: shape, dtype and zero-copy views", "[engine]") {
  Tensor t = Tensor::zeros(Shape{2, 3, 4, 5, 6});
  REQUIRE(t.numel() == 720);
  REQUIRE(t.dtype() == DType::f32);
  REQUIRE(t.device().is_cpu());
  REQUIRE(t.shape().str() == "(2, 3, 4, 5, 6)");

  Tensor v = t.reshape(Shape{6, 20, 6});
  REQUIRE(v.shares_storage_with(t));
  REQUIRE(v.data<float>() == t.data<float>());

  Tensor n = t.narrow0(1, 1);
  REQUIRE(n.shares_storage_with(t));
  REQUIRE(n.data<float>() == t.data<float>() + 360);
  n.fill(2.0);
  std::vector<float> all = t.to_vector<float>();
  REQUIRE(all[359] == 0.0f);
  REQUIRE(all[360] == 2.0f);
  REQUIRE(all[719] == 2.0f);

  Tensor inferred = t.reshape_infer({-1, 6});
  REQUIRE(inferred.shape() == Shape{120, 6});
}

TEST_CASE("tensor: clone copies, casts round", "[engine]") {
  Tensor a = Tensor::from_vector<double>(Shape{4}, {1.0, -2.5, 3.25, 1e-3});
  Tensor b = a.clone();
  REQUIRE_FALSE(b.shares_storage_with(a));
  b.fill(0);
  REQUIRE(a.to_vector<double>()[1] == -2.5);

  Tensor f = a.to(DType::f32);
  REQUIRE(f.dtype() == DType::f32);
  REQUIRE(f.to_vector<float>()[2] == 3.25f);

  // bf16 keeps 8 mantissa bits: 1 + 2^-8 rounds to even (1.0), 1 + 3*2^-8 rounds up.
  Tensor h = Tensor::from_vector<float>(Shape{3}, {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -7.0f}).to(DType::bf16);
  std::vector<float> back = h.to(DType::f32).to_vector<float>();
  REQUIRE(back[0] == 1.0f);
  REQUIRE(back[1] == 1.0f + 4.0f / 256);
  REQUIRE(back[2] == -7.0f);
}

TEST_CASE("tensor: errors name the problem", "[engine][errors]") {
  Tensor t = Tensor::zeros(Shape{2, 3});
  REQUIRE_THROWS_AS(t.reshape(Shape{7}), ShapeError);
  REQUIRE_THROWS_WITH(t.reshape(Shape{7}), Catch::Contains("cannot reshape (2, 3)"));
  REQUIRE_THROWS_WITH(t.data<double>(), Catch::Contains("holds f32 but was read as f64"));
  REQUIRE_THROWS_AS(t.narrow0(1, 2), ShapeError);
  REQUIRE_THROWS_WITH(t.shape().norm_axis(2), Catch::Contains("axis 2 is out of range"));
  Tensor d = Tensor::zeros(Shape{6}, DType::f64);
  REQUIRE_THROWS_AS(t.copy_from(d), TypeError);
  REQUIRE_THROWS_WITH(Device::parse("tpu"), Catch::Contains("unknown device 'tpu'"));
  REQUIRE_THROWS_WITH(dtype_from_name("f16"), Catch::Contains("unknown dtype 'f16'"));
  if (!compiled_with_cuda()) {
    REQUIRE_THROWS_AS(Tensor::zeros(Shape{2}, DType::f32, Device::cuda(0)), DeviceError);
  } else if (cuda_device_count() == 0) {
    REQUIRE_THROWS_WITH(Tensor::zeros(Shape{2}, DType::f32, Device::cuda(0)),
                        Catch::Contains("0 device(s) are available"));
  }
}

TEST_CASE("tensor: cpu allocator statistics", "[engine]") {
  Allocator& a = cpu_allocator();
  const AllocatorStats before = a.stats();
  {
    Tensor t = Tensor::empty(Shape{1000}, DType::f64);
    const AllocatorStats during = a.stats();
    REQUIRE(during.allocated_bytes == before.allocated_bytes + 8000);
    REQUIRE(during.peak_allocated_bytes >= during.allocated_bytes);
    REQUIRE(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);
  }
  REQUIRE(a.stats().allocated_bytes == before.allocated_bytes);
  // Large blocks are cached and reused without asking the system again.
  a.empty_cache();
  { Tensor big = Tensor::empty(Shape{1 << 20}); }
  const AllocatorStats s1 = a.stats();
  REQUIRE(s1.reserved_bytes >= s1.allocated_bytes + (4 << 20));
  { Tensor big = Tensor::empty(Shape{1 << 20}); }
  REQUIRE(a.stats().num_system_allocs == s1.num_system_allocs);
  a.empty_cache();
  REQUIRE(a.stats().reserved_bytes < s1.reserved_bytes);
}
