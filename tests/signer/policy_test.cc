#include "signer/policy.h"

#include <catch2/catch.hpp>

#include "signer/deny_list.h"
#include "tests/support/openssl_cli.h"

namespace signet {
namespace {

constexpr const char* kPolicy = R"(
[[caller]]
id = "spiffe://example.org/idp"
operations = ["jwt_svid", "access_token"]
subjects = ["spiffe://example.org/agent/*"]
principals = ["user:*"]
actors = ["spiffe://example.org/agent/*"]
audiences = ["https://api.example.org"]
max_act_depth = 1
expires_at = 2030-01-01T00:00:00Z
[caller.max_ttl]
jwt_svid = 300
access_token = 600
)";

TimePoint Year2029() {
  return FromUnixSeconds(1861920000);  // 2029-01-01
}

std::string LoadError(const std::string& toml) {
  StatusOr<Policy> policy = Policy::FromToml(toml, "policy.toml");
  REQUIRE_FALSE(policy.ok());
  CHECK(policy.status().code() == Code::kInvalidArgument);
  return policy.status().message();
}

}  // namespace

TEST_CASE("policy patterns match whole segments only", "[policy]") {
  CHECK(MatchesPattern("spiffe://example.org/agent/*", "spiffe://example.org/agent/a"));
  CHECK(MatchesPattern("spiffe://example.org/agent/*", "spiffe://example.org/agent/a/b"));
  CHECK_FALSE(MatchesPattern("spiffe://example.org/agent/*", "spiffe://example.org/agents"));
  CHECK_FALSE(MatchesPattern("spiffe://example.org/agent/*", "spiffe://example.org/agent"));
  CHECK_FALSE(MatchesPattern("spiffe://example.org/agent/*", "spiffe://example.org/agent/"));
  CHECK(MatchesPattern("user:*", "user:smith"));
  CHECK_FALSE(MatchesPattern("user:*", "username"));
  CHECK(MatchesPattern("*", "anything"));
  CHECK(MatchesPattern("https://api.example.org", "https://api.example.org"));
  CHECK_FALSE(MatchesPattern("https://api.example.org", "https://api.example.org.evil"));
}

TEST_CASE("policy allows what a grant names and nothing else", "[policy]") {
  StatusOr<Policy> policy = Policy::FromToml(kPolicy, "policy.toml");
  REQUIRE(policy.ok());
  const char* idp = "spiffe://example.org/idp";
  AuthorizationRequest ok{Operation::kJwtSvid,
                          "spiffe://example.org/agent/a",
                          {"https://api.example.org"},
                          {},
                          Seconds(300),
                          ""};
  CHECK(policy->Authorize(idp, ok, Year2029()).ok());

  auto denied = [&](AuthorizationRequest r, const std::string& part) {
    Status s = policy->Authorize(idp, r, Year2029());
    INFO(s.ToString());
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.message().find(part) != std::string::npos);
  };
  AuthorizationRequest r = ok;
  r.ttl = Seconds(301);
  denied(r, "max_ttl.jwt_svid");
  r = ok;
  r.operation = Operation::kX509Svid;
  denied(r, "operation 'x509_svid' is not granted");
  r = ok;
  r.subject = "spiffe://example.org/app/a";
  denied(r, "subject");
  r = ok;
  r.audiences.push_back("other");
  denied(r, "audience 'other'");
  r = ok;
  r.operation = Operation::kAccessToken;
  r.subject = "user:smith";
  r.actors = {"spiffe://example.org/agent/a", "spiffe://example.org/agent/b"};
  denied(r, "max_act_depth 1");
  r.actors = {"spiffe://example.org/app/x"};
  denied(r, "actor");
  r.actors = {"spiffe://example.org/agent/a"};
  CHECK(policy->Authorize(idp, r, Year2029()).ok());
  CHECK(policy->Authorize(idp, ok, FromUnixSeconds(1893456000)).message().find("expired") !=
        std::string::npos);
  CHECK(policy->Authorize("spiffe://example.org/x", ok, Year2029()).code() ==
        Code::kPermissionDenied);
}

TEST_CASE("policy grants custodian commands only to callers with admin", "[policy]") {
  std::string text = std::string(kPolicy) + R"(
[[caller]]
id = "spiffe://example.org/custodian"
operations = ["admin"]
expires_at = 2030-01-01T00:00:00Z
)";
  StatusOr<Policy> policy = Policy::FromToml(text, "policy.toml");
  REQUIRE(policy.ok());
  AuthorizationRequest admin;
  admin.operation = Operation::kAdmin;

  CHECK(policy->Authorize("spiffe://example.org/custodian", admin, Year2029()).ok());

  Status idp = policy->Authorize("spiffe://example.org/idp", admin, Year2029());
  CHECK(idp.code() == Code::kPermissionDenied);
  CHECK_THAT(idp.message(), Catch::Contains("operation 'admin' is not granted"));
  CHECK(policy->Authorize("spiffe://example.org/other", admin, Year2029()).code() ==
        Code::kPermissionDenied);
  CHECK(policy->Authorize("spiffe://example.org/custodian", admin, FromUnixSeconds(1893456000))
            .code() == Code::kPermissionDenied);  // 2030-01-01: the grant has expired

  AuthorizationRequest mint;
  mint.operation = Operation::kJwtSvid;
  mint.subject = "spiffe://example.org/agent/a";
  mint.audiences = {"https://api.example.org"};
  CHECK(policy->Authorize("spiffe://example.org/custodian", mint, Year2029()).code() ==
        Code::kPermissionDenied);
}

TEST_CASE("policy config errors name the file, the key and the problem", "[policy]") {
  CHECK(LoadError("[[caller]]\nid = 3\n") ==
        "policy.toml: caller[0].id: is required and must be "
        "a string");
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\noperations = [\"mint\"]\n")
            .find("policy.toml: caller[0].operations: unknown operation 'mint'") == 0);
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\n[caller.max_ttl]\njwt_svid = -1\n") ==
        "policy.toml: caller[0].max_ttl.jwt_svid: must be a positive integer (seconds)");
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\nsubjects = [\"spiffe://x/a*\"]\n")
            .find("caller[0].subjects: pattern 'spiffe://x/a*'") != std::string::npos);
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\nexpires_at = 2030-01-01\n")
            .find("caller[0].expires_at: must be a date-time with a time zone") !=
        std::string::npos);
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\ncolour = 1\n") ==
        "policy.toml: caller[0].colour: unknown key");
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\n[[caller]]\nid = \"spiffe://x/y\"\n")
            .find("caller[1].id: caller 'spiffe://x/y' has two grants") != std::string::npos);
  CHECK(LoadError("[[caller]]\nid = \"spiffe://X/y\"\n").find("caller[0].id: invalid SPIFFE ID") !=
        std::string::npos);
  CHECK(LoadError("[[caller]\n").find("policy.toml: line 1") == 0);
  CHECK(LoadError("[[caller]]\nid = \"spiffe://x/y\"\nrequire_act = true\n")
            .find("max_act_depth: must be at least 1") != std::string::npos);
}

TEST_CASE("policy file is read from disk and its errors carry its path", "[policy]") {
  testing::TempDir dir;
  std::string good = dir.Write("policy.toml", kPolicy);
  StatusOr<Policy> policy = Policy::FromTomlFile(good);
  REQUIRE(policy.ok());
  REQUIRE(policy->FindGrant("spiffe://example.org/idp") != nullptr);
  CHECK(policy->FindGrant("spiffe://example.org/idp")->max_ttl.at(Operation::kAccessToken) ==
        Seconds(600));
  std::string bad =
      dir.Write("bad.toml", "[[caller]]\nid = \"spiffe://x/y\"\nmax_act_depth = 99\n");
  StatusOr<Policy> refused = Policy::FromTomlFile(bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        bad + ": caller[0].max_act_depth: must be an integer from 0 to 32");
}

TEST_CASE("policy file that cannot be read is reported by path", "[policy]") {
  StatusOr<Policy> policy = Policy::FromTomlFile("/nonexistent/policy.toml");
  REQUIRE_FALSE(policy.ok());
  CHECK(policy.status().message().find("/nonexistent/policy.toml") != std::string::npos);
}

TEST_CASE("deny list changes are seen at once and counted", "[policy]") {
  DenyList deny;
  CHECK(deny.Add("spiffe://example.org/agent/a"));
  CHECK_FALSE(deny.Add("spiffe://example.org/agent/a"));
  CHECK(deny.Contains("spiffe://example.org/agent/a"));
  uint64_t v = deny.version();
  CHECK(deny.Remove("spiffe://example.org/agent/a"));
  CHECK_FALSE(deny.Contains("spiffe://example.org/agent/a"));
  CHECK(deny.version() > v);
  deny.Replace({"user:x", "user:y"});
  CHECK(deny.Snapshot() == std::vector<std::string>{"user:x", "user:y"});
}

}  // namespace signet
