#include "tools/common/duration.h"

#include <catch2/catch.hpp>

namespace signet {
namespace {

TEST_CASE("durations read seconds, minutes, hours and their combinations") {
  CHECK(ParseDuration("90s", "--ttl")->count() == 90);
  CHECK(ParseDuration("5m", "--ttl")->count() == 300);
  CHECK(ParseDuration("1h", "--ttl")->count() == 3600);
  CHECK(ParseDuration("1h30m", "--ttl")->count() == 5400);
  CHECK(ParseDuration("2h0m5s", "--ttl")->count() == 7205);
}

TEST_CASE("durations without a unit, with unknown units or out of order are refused") {
  for (const char* bad : {"", "5", "5x", "m", "1.5h", "-5m", " 5m", "5m ", "5s1m", "1m1m", "0s",
                          "0h0m", "5M", "1d"}) {
    StatusOr<std::chrono::seconds> parsed = ParseDuration(bad, "--ttl");
    INFO("input '" << bad << "'");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == Code::kInvalidArgument);
    CHECK(parsed.status().message().find("--ttl '" + std::string(bad) + "'") == 0);
    CHECK(parsed.status().message().find("e.g. 90s, 5m, 1h") != std::string::npos);
  }
}

TEST_CASE("durations longer than ten years are refused without overflowing") {
  CHECK_FALSE(ParseDuration("99999999999999999999s", "--ttl").ok());
  CHECK_FALSE(ParseDuration("100000h", "--ttl").ok());
}

TEST_CASE("formatted durations read back to the same value") {
  for (int64_t s : {1, 59, 60, 90, 3600, 3661, 86400}) {
    std::string text = FormatDuration(std::chrono::seconds(s));
    CHECK(ParseDuration(text, "x")->count() == s);
  }
  CHECK(FormatDuration(std::chrono::seconds(90)) == "1m30s");
}

}  // namespace
}  // namespace signet
