// Training configuration: defaults, strict merging, dotted overrides.
#include <catch2/catch.hpp>

#include "apps/trainer/config.h"
#include "engine/error.h"

using namespace asn;
using namespace asn::train;
using nlohmann::json;

TEST_CASE("config: defaults, merge and typed access", "[trainer][config]") {
  json cfg = resolve_config(json::parse(R"({"train": {"epochs": 3}, "optimizer": {"type": "adamw"}})"));
  REQUIRE(get<int>(cfg, "train.epochs") == 3);
  REQUIRE(get<int>(cfg, "train.eval_batch_size") == 32);  // default kept
  REQUIRE(get<std::string>(cfg, "optimizer.type") == "adamw");
  REQUIRE_FALSE(cfg["optimizer"].contains("momentum"));  // a new "type" replaces the section
  cfg = resolve_config(json::parse(R"({"optimizer": {"momentum": 0.5}, "data": {"clip": {"num_frames": 4}}})"));
  REQUIRE(cfg["optimizer"]["momentum"] == 0.5);  // the same type merges
  REQUIRE(cfg["optimizer"]["nesterov"] == true);
  REQUIRE(cfg["data"]["clip"]["num_frames"] == 4);
  REQUIRE(cfg["data"]["clip"]["height"] == 32);
  REQUIRE(cfg["data"]["type"] == "synthetic");
  // An integer where a float is expected is fine and becomes a float.
  cfg = resolve_config(json::parse(R"({"train": {"label_smoothing": 0}})"));
  REQUIRE(cfg["train"]["label_smoothing"].is_number_float());
}

TEST_CASE("config: unknown keys and wrong types name the key", "[trainer][config][errors]") {
  REQUIRE_THROWS_WITH(resolve_config(json::parse(R"({"train": {"epoch": 3}})")), Catch::Contains("unknown key 'train.epoch'"));
  REQUIRE_THROWS_WITH(resolve_config(json::parse(R"({"train": {"epochs": "3"}})")),
                      Catch::Contains("'train.epochs' must be an integer"));
  REQUIRE_THROWS_WITH(resolve_config(json::parse(R"({"train": {"deterministic": 1}})")),
                      Catch::Contains("'train.deterministic' must be a boolean"));
  REQUIRE_THROWS_WITH(resolve_config(json::parse(R"({"data": 3})")), Catch::Contains("'data' must be an object"));
  REQUIRE_THROWS_WITH(get<int>(default_config(), "train.nope"), Catch::Contains("missing key 'train.nope'"));
}

TEST_CASE("config: dotted overrides", "[trainer][config]") {
  json user = json::object();
  apply_overrides(user, {"train.epochs=5", "optimizer.type=adamw", "data.clip.area=[0.3,1.0]", "train.device=\"cpu\"",
                         "train.deterministic=true"});
  json cfg = resolve_config(user);
  REQUIRE(get<int>(cfg, "train.epochs") == 5);
  REQUIRE(get<std::string>(cfg, "optimizer.type") == "adamw");
  REQUIRE(cfg["data"]["clip"]["area"][0].get<double>() == 0.3);
  REQUIRE(get<std::string>(cfg, "train.device") == "cpu");
  REQUIRE(get<bool>(cfg, "train.deterministic"));
  REQUIRE_THROWS_WITH(apply_overrides(user, {"train.epochs"}), Catch::Contains("expected key.path=value"));
  json bad = json::object();
  apply_overrides(bad, {"trian.epochs=1"});
  REQUIRE_THROWS_WITH(resolve_config(bad), Catch::Contains("unknown key 'trian'"));
}
