// The HTTPS key endpoints, fetched with curl.
#include "ipc/https_server.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "tests/ipc/test_pki.h"

namespace signet::testing {
namespace {

struct Fetched {
  int status = 0;
  std::string body;
};

Fetched Fetch(uint16_t port, const std::string& path) {
  std::string output;
  int rc = RunCommand("curl -sS --tlsv1.3 --cacert " + SharedPki().Path("ca.pem") +
                          " -w '\\n%{http_code}' https://localhost:" + std::to_string(port) + path,
                      &output);
  REQUIRE(rc == 0);
  size_t cut = output.rfind('\n');
  return {std::stoi(output.substr(cut + 1)), output.substr(0, cut)};
}

TEST_CASE("https endpoints serve JWKS, discovery, bundle, metrics and health", "[ipc]") {
  ipc::MetricsRegistry metrics;
  metrics.AddCounter("signet_ipc_requests_total", {{"op", "health"}}, 3);
  std::atomic<bool> healthy{true};
  ipc::DocumentProvider documents{[] { return std::string(R"({"keys":[{"kid":"k1"}]})"); },
                                  [] { return std::string(R"({"keys":[],"spiffe_sequence":7})"); },
                                  [&]() -> Status {
                                    return healthy ? OkStatus()
                                                   : Status(Code::kUnavailable, "etcd unreachable");
                                  }};
  ipc::HttpsOptions options;
  options.tls = SharedPki().ServerFiles();
  options.issuer = "https://signet.example.org";
  auto server = ipc::HttpsServer::Start(options, documents, &metrics, {});
  REQUIRE(server.ok());
  uint16_t port = (*server)->port();

  Fetched jwks = Fetch(port, "/.well-known/jwks.json");
  CHECK(jwks.status == 200);
  CHECK(jwks.body == R"({"keys":[{"kid":"k1"}]})");

  Fetched discovery = Fetch(port, "/.well-known/openid-configuration");
  CHECK(discovery.status == 200);
  CHECK(discovery.body.find(R"("issuer":"https://signet.example.org")") != std::string::npos);
  CHECK(discovery.body.find(R"("jwks_uri":"https://signet.example.org/.well-known/jwks.json")") !=
        std::string::npos);

  Fetched bundle = Fetch(port, "/bundle");
  CHECK(bundle.status == 200);
  CHECK(bundle.body.find("spiffe_sequence\":7") != std::string::npos);

  Fetched text = Fetch(port, "/metrics");
  CHECK(text.status == 200);
  CHECK(text.body.find("signet_ipc_requests_total{op=\"health\"} 3") != std::string::npos);

  CHECK(Fetch(port, "/healthz").status == 200);
  healthy = false;
  Fetched unhealthy = Fetch(port, "/healthz");
  CHECK(unhealthy.status == 503);
  CHECK(unhealthy.body.find("etcd unreachable") != std::string::npos);

  CHECK(Fetch(port, "/nothing").status == 404);
}

}  // namespace
}  // namespace signet::testing
