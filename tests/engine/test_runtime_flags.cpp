// Process-wide switches (engine/runtime_flags.h): determinism and TF32 setters, and the
// environment switches kernels use to offer their previous variant.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "engine/runtime_flags.h"

using namespace asn;

TEST_CASE("runtime flags: setters round-trip and environment switches parse", "[engine]") {
  const bool det = deterministic(), tf32 = allow_tf32();
  set_deterministic(!det);
  REQUIRE(deterministic() == !det);
  set_deterministic(det);
  set_allow_tf32(!tf32);
  REQUIRE(allow_tf32() == !tf32);
  set_allow_tf32(tf32);

  const char* name = "ASN_TEST_RUNTIME_SWITCH";
  ::unsetenv(name);
  REQUIRE(env_switch(name, true));
  REQUIRE_FALSE(env_switch(name, false));
  for (const char* off : {"0", "off", "false", "no"}) {
    ::setenv(name, off, 1);
    REQUIRE_FALSE(env_switch(name, true));
  }
  for (const char* on : {"1", "on", "yes", "anything"}) {
    ::setenv(name, on, 1);
    REQUIRE(env_switch(name, false));
  }
  ::setenv(name, "", 1);
  REQUIRE(env_switch(name, true));  // empty = unset
  ::unsetenv(name);
}
