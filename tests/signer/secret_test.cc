#include "signer/secret.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/support/openssl_cli.h"

namespace signet {

TEST_CASE("a secret file readable by others is refused without revealing its content", "[secret]") {
  testing::TempDir dir;
  std::string path = dir.Write("pin", "123456\n");
  ::chmod(path.c_str(), 0644);
  auto secret = ReadSecret({"", path});
  REQUIRE_FALSE(secret.ok());
  CHECK_THAT(secret.status().message(), Catch::Contains("0644") && Catch::Contains(path));
  CHECK_THAT(secret.status().message(), !Catch::Contains("123456"));

  ::chmod(path.c_str(), 0600);
  secret = ReadSecret({"", path});
  REQUIRE(secret.ok());
  CHECK(secret->reveal() == "123456");
}

TEST_CASE("a secret comes from exactly one source and an unset variable is named", "[secret]") {
  ::unsetenv("SIGNET_TEST_UNSET_PIN");
  auto unset = ReadSecret({"SIGNET_TEST_UNSET_PIN", ""});
  REQUIRE_FALSE(unset.ok());
  CHECK_THAT(unset.status().message(), Catch::Contains("SIGNET_TEST_UNSET_PIN"));
  CHECK(ReadSecret({"", ""}).status().code() == Code::kInvalidArgument);
  CHECK(ReadSecret({"A", "b"}).status().code() == Code::kInvalidArgument);

  ::setenv("SIGNET_TEST_PIN", "9876", 1);
  auto from_env = ReadSecret({"SIGNET_TEST_PIN", ""});
  REQUIRE(from_env.ok());
  CHECK(from_env->reveal() == "9876");
}

}  // namespace signet
