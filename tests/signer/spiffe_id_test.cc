#include "signer/spiffe_id.h"

#include <catch2/catch.hpp>

namespace signet {
namespace {

std::string Rejection(const std::string& id) {
  StatusOr<SpiffeId> parsed = SpiffeId::Parse(id);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == Code::kInvalidArgument);
  return parsed.status().message();
}

bool Says(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("SPIFFE ID parser accepts valid IDs and splits them", "[spiffe_id]") {
  StatusOr<SpiffeId> id = SpiffeId::Parse("spiffe://example.org/ns/prod/sa/Web_1.v-2");
  REQUIRE(id.ok());
  CHECK(id->trust_domain() == "example.org");
  CHECK(id->path() == "/ns/prod/sa/Web_1.v-2");
  CHECK(id->ToString() == "spiffe://example.org/ns/prod/sa/Web_1.v-2");
  StatusOr<SpiffeId> bare = SpiffeId::Parse("spiffe://my_td-1.example");
  REQUIRE(bare.ok());
  CHECK(bare->path().empty());
  CHECK(SpiffeId::Parse("spiffe://example.org/.../a..b/.x").ok());  // dots inside segments are fine
}

TEST_CASE("SPIFFE ID parser names the rule each bad ID breaks", "[spiffe_id]") {
  CHECK(Says(Rejection(""), "empty"));
  CHECK(Says(Rejection("http://example.org/a"), "scheme"));
  CHECK(Says(Rejection("SPIFFE://example.org/a"), "scheme"));
  CHECK(Says(Rejection("spiffe:/example.org/a"), "scheme"));
  CHECK(Says(Rejection("spiffe:///a"), "trust domain is missing"));
  CHECK(Says(Rejection("spiffe://Example.org/a"), "trust domain characters"));
  CHECK(Says(Rejection("spiffe://exa mple.org/a"), "trust domain characters"));
  CHECK(Says(Rejection("spiffe://user@example.org/a"), "userinfo"));
  CHECK(Says(Rejection("spiffe://example.org:8443/a"), "port"));
  CHECK(Says(Rejection("spiffe://example.org/a?x=1"), "query"));
  CHECK(Says(Rejection("spiffe://example.org?x=1"), "query"));
  CHECK(Says(Rejection("spiffe://example.org/a#frag"), "fragment"));
  CHECK(Says(Rejection("spiffe://example.org/a%20b"), "percent-encoding"));
  CHECK(Says(Rejection("spiffe://ex%41mple.org/a"), "percent-encoding"));
  CHECK(Says(Rejection("spiffe://example.org/a//b"), "must not be empty"));
  CHECK(Says(Rejection("spiffe://example.org/a/./b"), "'.' or '..'"));
  CHECK(Says(Rejection("spiffe://example.org/a/.."), "'.' or '..'"));
  CHECK(Says(Rejection("spiffe://example.org/a/b/"), "must not end with '/'"));
  CHECK(Says(Rejection("spiffe://example.org/"), "must not end with '/'"));
  CHECK(Says(Rejection("spiffe://example.org/a*b"), "path characters"));
  CHECK(Says(Rejection("spiffe://example.org/caf\xc3\xa9"), "path characters"));
  CHECK(Says(Rejection("spiffe://" + std::string(256, 'a')), "longer than 255"));
  CHECK(Says(Rejection("spiffe://example.org/" + std::string(2040, 'a')), "2048 bytes"));
}

TEST_CASE("SPIFFE ID of exactly 2048 bytes is accepted", "[spiffe_id]") {
  std::string prefix = "spiffe://example.org/";
  CHECK(SpiffeId::Parse(prefix + std::string(2048 - prefix.size(), 'a')).ok());
}

TEST_CASE("trust domain validation follows the same character rules", "[spiffe_id]") {
  CHECK(SpiffeId::ValidateTrustDomain("prod.example-1_x").ok());
  CHECK_FALSE(SpiffeId::ValidateTrustDomain("").ok());
  CHECK_FALSE(SpiffeId::ValidateTrustDomain("Example.org").ok());
  CHECK_FALSE(SpiffeId::ValidateTrustDomain("example.org:443").ok());
}

}  // namespace signet
