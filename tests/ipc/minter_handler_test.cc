// The Minter behind the IPC server: a client over mutual TLS gets credentials
// that python-jwt and the openssl command line accept.
#include "ipc/minter_handler.h"

#include <catch2/catch.hpp>

#include "ipc/client.h"
#include "ipc/server.h"
#include "signer/signature.h"
#include "tests/ipc/harness.h"
#include "tests/minting/minting_env.h"

namespace signet::testing {
namespace {

using ipc::pb::Request;
using ipc::pb::Response;

struct MinterStack {
  MinterStack() : handler(env.minter(), {}) {
    ipc::ServerOptions options;
    options.tls = SharedPki().ServerFiles();
    options.reload_poll = std::chrono::milliseconds(0);
    auto started = ipc::Server::Start(options, handler, nullptr, {});
    REQUIRE(started.ok());
    server = std::move(started).value();
  }

  std::unique_ptr<ipc::Client> ClientAs(const std::string& cert) {
    auto client = ipc::Client::Create(
        ClientOptionsFor({"127.0.0.1:" + std::to_string(server->tcp_port())}, cert));
    REQUIRE(client.ok());
    return std::move(client).value();
  }

  MintingEnv env{Algorithm::kES256, Algorithm::kES256, Algorithm::kES256};
  ipc::MinterHandler handler;
  std::unique_ptr<ipc::Server> server;
};

TEST_CASE("minter handler mints a JWT-SVID batch that python-jwt verifies with the JWKS", "[ipc]") {
  MinterStack stack;
  auto client = stack.ClientAs("client");  // spiffe://example.org/idp

  Request request;
  auto* good = request.mutable_mint_jwt_svid()->add_items();
  good->set_spiffe_id("spiffe://example.org/agent/refunds");
  good->add_audience(kApi);
  good->set_ttl_seconds(120);
  auto* refused = request.mutable_mint_jwt_svid()->add_items();
  refused->set_spiffe_id("spiffe://other.org/agent/x");
  refused->add_audience(kApi);

  auto response = client->Call(request);
  REQUIRE(response.ok());
  REQUIRE(response->mint_jwt_svid().items_size() == 2);
  const auto& svid = response->mint_jwt_svid().items(0).svid();
  CHECK(svid.key_id() == "jwt-svid-1");
  CHECK(response->mint_jwt_svid().items(1).has_error());

  Request jwks;
  jwks.mutable_get_jwks();
  auto keys = client->Call(jwks);
  REQUIRE(keys.ok());
  auto verified =
      PyJwtVerifyWithJwks(svid.token(), keys->get_jwks().jwks_json(), Algorithm::kES256, kApi);
  CHECK(verified.at("claims").as_object().at("sub") == "spiffe://example.org/agent/refunds");
}

TEST_CASE("minter handler mints an access token with its act chain", "[ipc]") {
  MinterStack stack;
  auto client = stack.ClientAs("client");

  Request request;
  auto* item = request.mutable_mint_access_token()->add_items();
  item->set_subject("user:smith");
  item->add_audience(kApi);
  item->set_client_id("support-console");
  item->add_actors()->set_subject("spiffe://example.org/agent/refunds");
  auto response = client->Call(request);
  REQUIRE(response.ok());
  const auto& result = response->mint_access_token().items(0);
  REQUIRE(result.has_token());
  CHECK_FALSE(result.token().jti().empty());

  auto verified = PyJwtVerify(result.token().token(), stack.env.at_key().public_key().spki_der,
                              Algorithm::kES256, kApi);
  const auto& claims = verified.at("claims").as_object();
  CHECK(claims.at("sub") == "user:smith");
  CHECK(claims.at("act").as_object().at("sub") == "spiffe://example.org/agent/refunds");
}

TEST_CASE("minter handler issues an X.509-SVID that openssl verifies to the root", "[ipc]") {
  MinterStack stack;
  auto client = stack.ClientAs("client");

  Request request;
  auto* item = request.mutable_issue_x509_svid()->add_items();
  item->set_spiffe_id("spiffe://example.org/app/web");
  item->set_csr(stack.env.MakeCsr("ec"));
  auto response = client->Call(request);
  REQUIRE(response.ok());
  const auto& result = response->issue_x509_svid().items(0);
  REQUIRE(result.has_svid());

  const std::string& der = result.svid().certificate_der();
  std::string leaf = stack.env.WritePem("leaf", Bytes(der.begin(), der.end()));
  std::string root = stack.env.WritePem("root", stack.env.root_der());
  std::string inter = stack.env.WritePem("inter", stack.env.intermediate_der());
  std::string output;
  CHECK(RunCommand("openssl verify -CAfile " + root + " -untrusted " + inter + " " + leaf,
                   &output) == 0);
  CHECK(output.find(": OK") != std::string::npos);
}

TEST_CASE("minter handler signs a digest for a granted caller and refuses another", "[ipc]") {
  MinterStack stack;
  auto digest = ComputeDigest(Algorithm::kES256, AsBytes("release v1.2"));
  REQUIRE(digest.ok());
  Request request;
  auto* item = request.mutable_sign_digest()->add_items();
  item->set_key_name("release");
  item->set_digest(std::string(digest->begin(), digest->end()));

  auto granted = stack.ClientAs("client")->Call(request);
  REQUIRE(granted.ok());
  const auto& result = granted->sign_digest().items(0);
  REQUIRE(result.has_signature());
  CHECK(result.signature().algorithm() == "ES256");
  const std::string& signature = result.signature().signature();
  CHECK(OpensslVerifies(stack.env.raw_key().public_key().spki_der, Algorithm::kES256,
                        "release v1.2", Bytes(signature.begin(), signature.end())));

  auto other = stack.ClientAs("client2")->Call(request);  // spiffe://example.org/agent-idp
  REQUIRE(other.ok());
  CHECK(other->sign_digest().items(0).error().code() == "permission_denied");
}

}  // namespace
}  // namespace signet::testing
