#include "tools/signetctl/commands.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/support/openssl_cli.h"
#include "tools/signetctl/client_config.h"

namespace signet::ctl {
namespace {

TEST_CASE("signetctl sends actors in order and joins repeated scopes") {
  AccessTokenArgs args;
  args.subject = "spiffe://example.org/user/alice";
  args.audiences = {"https://api.example.org"};
  args.client_id = "support-agent";
  args.scopes = {"orders:read", "orders:refund"};
  args.actors = {"spiffe://example.org/agent/current", "spiffe://example.org/agent/first"};
  args.ttl = "90s";

  StatusOr<pb::Request> request = BuildAccessTokenRequest(args);
  REQUIRE(request.ok());
  const pb::AccessTokenParams& item = request->mint_access_token().items(0);
  CHECK(item.scope() == "orders:read orders:refund");
  REQUIRE(item.actors_size() == 2);
  CHECK(item.actors(0).subject() == "spiffe://example.org/agent/current");
  CHECK(item.actors(1).subject() == "spiffe://example.org/agent/first");
  CHECK(item.ttl_seconds() == 90);
}

TEST_CASE("signetctl refuses a bad TTL, a missing audience and a digest that is not hex") {
  JwtSvidArgs jwt{"spiffe://example.org/w", {"a"}, "5 minutes"};
  StatusOr<pb::Request> bad_ttl = BuildJwtSvidRequest(jwt);
  REQUIRE_FALSE(bad_ttl.ok());
  CHECK(bad_ttl.status().message().find("--ttl '5 minutes'") == 0);

  jwt = JwtSvidArgs{"spiffe://example.org/w", {}, "5m"};
  CHECK(BuildJwtSvidRequest(jwt).status().message() == "give at least one --aud");

  SignArgs sign{"raw-1", "not-hex", "der"};
  CHECK(BuildSignRequest(sign).status().message().find("--digest must be the digest in hex") == 0);
  sign = SignArgs{"raw-1", "00ff", "jose"};
  CHECK(BuildSignRequest(sign).status().message() == "--encoding 'jose': expected der or raw");
}

TEST_CASE("signetctl sends a PEM CSR made by openssl as DER") {
  testing::TempDir dir;
  std::string csr = dir.path() + "/w.csr";
  REQUIRE(testing::RunCommand("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                              "-nodes -keyout " +
                              dir.path() + "/w.key -subj /CN=w -out " + csr) == 0);
  REQUIRE(testing::RunCommand("openssl req -in " + csr + " -outform DER -out " + csr + ".der") ==
          0);

  StatusOr<pb::Request> request =
      BuildX509SvidRequest(X509SvidArgs{csr, "spiffe://example.org/w", "1h"});
  REQUIRE(request.ok());
  std::string expected;
  testing::RunCommand("cat " + csr + ".der", &expected);
  CHECK(request->issue_x509_svid().items(0).csr() == expected);

  StatusOr<pb::Request> missing =
      BuildX509SvidRequest(X509SvidArgs{dir.path() + "/absent", "spiffe://example.org/w", "1h"});
  CHECK(missing.status().code() == Code::kNotFound);
  dir.Write("junk.csr", "not a request");
  StatusOr<pb::Request> junk =
      BuildX509SvidRequest(X509SvidArgs{dir.path() + "/junk.csr", "spiffe://example.org/w", "1h"});
  CHECK(junk.status().message().find("not a PKCS#10 request") != std::string::npos);
}

TEST_CASE("signetctl turns an item error into the server's status") {
  pb::Response response;
  pb::Error* error = response.mutable_mint_jwt_svid()->add_items()->mutable_error();
  error->set_code("permission_denied");
  error->set_message("caller spiffe://example.org/c: subject is not granted");

  StatusOr<std::string> text = FormatResponse(response);
  REQUIRE_FALSE(text.ok());
  CHECK(text.status().code() == Code::kPermissionDenied);
  CHECK(text.status().message() == "caller spiffe://example.org/c: subject is not granted");
}

TEST_CASE("signetctl prints a token on one line") {
  pb::Response response;
  response.mutable_mint_access_token()->add_items()->mutable_token()->set_token("a.b.c");
  CHECK(*FormatResponse(response) == "a.b.c\n");
}

TEST_CASE("signetctl client config resolves paths beside the file and needs endpoints") {
  testing::TempDir dir;
  std::string path = dir.Write("c.toml",
                               "endpoints = [\"127.0.0.1:7443\", \"unix:s.sock\"]\n"
                               "certificate = \"pki/c.pem\"\nprivate_key = \"pki/c.key\"\n"
                               "ca = \"/etc/ca.pem\"\ntimeout = \"2s\"\n");
  StatusOr<signet::ClientConfig> config = signet::LoadClientConfig(path);
  REQUIRE(config.ok());
  CHECK(config->endpoints[1] == "unix:" + dir.path() + "/s.sock");
  CHECK(config->certificate == dir.path() + "/pki/c.pem");
  CHECK(config->ca == "/etc/ca.pem");
  CHECK(config->timeout.count() == 2);

  path = dir.Write("bad.toml", "certificate = \"c.pem\"\nprivate_key = \"k\"\nca = \"ca\"\n");
  CHECK(signet::LoadClientConfig(path).status().message() ==
        path + ": endpoints: is required: a list like [\"127.0.0.1:7443\"]");
}

}  // namespace
}  // namespace signet::ctl
