// TF SAME / fixed padding arithmetic against the spec's worked examples (assemblenet-spec §1.3, §11).
#include <catch2/catch.hpp>

#include "kernels/common/padding.h"

using namespace asn::kernels;

TEST_CASE("padding: TF SAME puts the extra pad after", "[kernels][padding]") {
  // 3x3 stride 2 on 224: pad 0 before / 1 after, out 112.
  AxisPad p = same_padding(224, 3, 2, 1);
  REQUIRE(p.before == 0);
  REQUIRE(p.after == 1);
  REQUIRE(padded_out_size(224, 3, 2, 1, p) == 112);
  // 7x7 stride 2 on 224: SAME pads 2 / 3.
  p = same_padding(224, 7, 2, 1);
  REQUIRE(p.before == 2);
  REQUIRE(p.after == 3);
  // 3x3 stride 2 max-pool on 112: 0 / 1, out 56.
  p = same_padding(112, 3, 2, 1);
  REQUIRE(p.before == 0);
  REQUIRE(p.after == 1);
  REQUIRE(padded_out_size(112, 3, 2, 1, p) == 56);
  // Temporal 3-tap dilation 4, stride 1: symmetric (k-1)d/2 = 4.
  p = same_padding(8, 3, 1, 4);
  REQUIRE(p.before == 4);
  REQUIRE(p.after == 4);
  // Stride larger than the kernel: no padding needed on an even length.
  p = same_padding(8, 1, 2, 1);
  REQUIRE(p.before == 0);
  REQUIRE(p.after == 0);
  REQUIRE(padded_out_size(8, 1, 2, 1, p) == 4);
  // Odd length with a 2x2/2 pool: ceil(7/2) = 4, pad 0/1.
  p = same_padding(7, 2, 2, 1);
  REQUIRE(p.after == 1);
  REQUIRE(padded_out_size(7, 2, 2, 1, p) == 4);
}

TEST_CASE("padding: fixed padding of the reference's strided convs", "[kernels][padding]") {
  AxisPad p = fixed_padding(7);  // 7x7/2 on 224: 3 / 3, VALID, out 112
  REQUIRE(p.before == 3);
  REQUIRE(p.after == 3);
  REQUIRE(padded_out_size(224, 7, 2, 1, p) == 112);
  p = fixed_padding(3);  // 3x3/2 on 56: 1 / 1, out 28
  REQUIRE(p.before == 1);
  REQUIRE(p.after == 1);
  REQUIRE(padded_out_size(56, 3, 2, 1, p) == 28);
  p = fixed_padding(1);
  REQUIRE(p.before == 0);
  REQUIRE(p.after == 0);
  REQUIRE(padded_out_size(56, 1, 2, 1, p) == 28);  // 1x1/2 samples even positions
}
