// The IPC server over real TLS on loopback: round trips, pipelining, refusals,
// malformed peers, back-pressure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "ipc/frame.h"
#include "ipc/server.h"
#include "signer/signature.h"
#include "tests/ipc/harness.h"
#include "tests/ipc/raw_tls_client.h"

namespace signet::testing {
namespace {

using ipc::pb::Request;
using ipc::pb::Response;

std::string HealthBody() {
  return HealthRequest().SerializeAsString();
}

// True when a client presenting `cert` gets no answer and the server closes on it.
bool Refused(ServerHarness& harness, const std::string& cert, int max_version = TLS1_3_VERSION) {
  ipc::TlsFiles files = SharedPki().ClientFiles(cert);
  if (cert.empty()) {
    files.cert_file.clear();
    files.key_file.clear();
  }
  auto raw = RawTlsClient::Connect(harness.port(), files, max_version);
  if (raw == nullptr) {
    return true;  // refused during the handshake itself
  }
  raw->Write(RequestFrame(1, HealthBody()));
  return !raw->ReadFrame().has_value() && raw->WaitClosed();
}

TEST_CASE("ipc server answers every operation type over mutual TLS", "[ipc]") {
  ServerHarness harness;
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE(client.ok());

  SECTION("health names the caller's SPIFFE ID") {
    auto response = (*client)->Call(HealthRequest());
    REQUIRE(response.ok());
    CHECK(response->health().status() == ipc::pb::HealthResponse::SERVING);
    CHECK(response->health().detail() == "spiffe://example.org/idp");
    CHECK(harness.metrics().Value("signet_ipc_requests_total", {{"op", "health"}}) == 1);
  }

  SECTION("sign digest returns a signature openssl verifies") {
    auto digest = ComputeDigest(Algorithm::kES256, AsBytes("message to sign"));
    REQUIRE(digest.ok());
    Request request;
    auto* item = request.mutable_sign_digest()->add_items();
    item->set_key_name("ipc-test");
    item->set_digest(std::string(digest->begin(), digest->end()));
    item->set_encoding(ipc::pb::SIGNATURE_ENCODING_DER);

    auto response = (*client)->Call(request);
    REQUIRE(response.ok());
    REQUIRE(response->sign_digest().items_size() == 1);
    const std::string& signature = response->sign_digest().items(0).signature().signature();
    CHECK(OpensslVerifies(harness.handler().key().public_key().spki_der, Algorithm::kES256,
                          "message to sign", Bytes(signature.begin(), signature.end())));
  }

  SECTION("a JWT-SVID batch answers each item, errors included") {
    Request request;
    auto* batch = request.mutable_mint_jwt_svid();
    for (const char* sub : {"spiffe://example.org/a", "spiffe://example.org/b"}) {
      auto* item = batch->add_items();
      item->set_spiffe_id(sub);
      item->add_audience("rp");
    }
    batch->add_items()->set_spiffe_id("spiffe://example.org/no-audience");

    auto response = (*client)->Call(request);
    REQUIRE(response.ok());
    const auto& items = response->mint_jwt_svid().items();
    REQUIRE(items.size() == 3);
    CHECK(std::count(items[0].svid().token().begin(), items[0].svid().token().end(), '.') == 2);
    CHECK(items[1].svid().key_id() == "ipc-test");
    CHECK(items[2].error().code() == "invalid_argument");
    CHECK(harness.metrics().Value("signet_ipc_errors_total",
                                  {{"op", "mint_jwt_svid"}, {"code", "invalid_argument"}}) == 1);
  }

  SECTION("an access token carries the actor chain") {
    Request request;
    auto* item = request.mutable_mint_access_token()->add_items();
    item->set_subject("user:alice");
    item->add_actors()->set_subject("agent:planner");
    item->add_actors()->set_subject("agent:booking");
    auto response = (*client)->Call(request);
    REQUIRE(response.ok());
    CHECK(response->mint_access_token().items(0).token().token() ==
          "at:user:alice<agent:planner<agent:booking");
  }

  SECTION("an X.509-SVID request carries the CSR bytes intact") {
    Request request;
    std::string csr("\x30\x82\x00\x00binary\0csr", 15);
    request.mutable_issue_x509_svid()->add_items()->set_csr(csr);
    auto response = (*client)->Call(request);
    REQUIRE(response.ok());
    CHECK(response->issue_x509_svid().items(0).svid().certificate_der() == csr);
  }

  SECTION("JWKS and bundle are returned as JSON") {
    Request jwks;
    jwks.mutable_get_jwks();
    Request bundle;
    bundle.mutable_get_bundle();
    auto jwks_response = (*client)->Call(jwks);
    auto bundle_response = (*client)->Call(bundle);
    REQUIRE(jwks_response.ok());
    REQUIRE(bundle_response.ok());
    CHECK(jwks_response->get_jwks().jwks_json() == R"({"keys":[]})");
    CHECK(bundle_response->get_bundle().bundle_json().find("spiffe_sequence") != std::string::npos);
  }
}

TEST_CASE("ipc server answers 1000 pipelined requests out of order, each matched by id", "[ipc]") {
  ServerHarness harness(TestHandler::Options{.max_delay_ms = 20});
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE(client.ok());

  constexpr int kRequests = 1000;
  std::mutex mu;
  std::vector<int> completion_order;
  std::atomic<int> mismatches{0};
  std::promise<void> all_done;
  for (int i = 0; i < kRequests; ++i) {
    Request request;
    request.mutable_mint_access_token()->add_items()->set_subject("s" + std::to_string(i));
    (*client)->Send(request, [&, i](StatusOr<Response> response) {
      if (!response.ok() ||
          response->mint_access_token().items(0).token().token() != "at:s" + std::to_string(i)) {
        ++mismatches;
      }
      std::lock_guard lock(mu);
      completion_order.push_back(i);
      if (completion_order.size() == kRequests) {
        all_done.set_value();
      }
    });
  }

  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(mismatches == 0);
  CHECK_FALSE(std::is_sorted(completion_order.begin(), completion_order.end()));
  CHECK(harness.handler().max_outstanding() > 100);  // really in flight together
  CHECK(harness.server().connection_count() == 1);

  // Responses ready together left in one write: fewer writes than frames.
  double frames = harness.metrics().Value("signet_ipc_frames_written_total", {});
  double writes = harness.metrics().Value("signet_ipc_writes_total", {});
  CHECK(frames == kRequests);
  CHECK(writes < frames);
}

TEST_CASE("ipc server answers requests that arrived together in one write", "[ipc]") {
  ServerHarness harness;  // answers health requests at once, inside Handle
  auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(raw != nullptr);

  // Eight requests in one TLS record: one read, eight completions queued together.
  constexpr int kRequests = 8;
  std::string frames;
  for (int i = 1; i <= kRequests; ++i) {
    frames += RequestFrame(static_cast<uint64_t>(i), HealthBody());
  }
  REQUIRE(raw->Write(frames));
  for (int i = 1; i <= kRequests; ++i) {
    auto frame = raw->ReadFrame();
    REQUIRE(frame.has_value());
    CHECK(frame->header.request_id == static_cast<uint64_t>(i));
  }

  CHECK(harness.metrics().Value("signet_ipc_frames_written_total", {}) == kRequests);
  CHECK(harness.metrics().Value("signet_ipc_writes_total", {}) == 1);
}

TEST_CASE("ipc server answers a response over the frame limit with an internal error", "[ipc]") {
  ServerHarness harness;
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE(client.ok());

  // The test handler echoes each CSR as the certificate and adds a serial, so a request just
  // under the frame limit comes back over it.
  Request request;
  for (int i = 0; i < 4000; ++i) {
    request.mutable_issue_x509_svid()->add_items()->set_csr("0123456789");
  }
  REQUIRE(request.ByteSizeLong() < ipc::kMaxFrameBody);

  auto response = (*client)->Call(request);
  REQUIRE(response.ok());
  REQUIRE(response->has_error());
  CHECK(response->error().code() == "internal");
  CHECK(response->error().message().find("exceeds the frame limit") != std::string::npos);

  auto after = (*client)->Call(HealthRequest());
  REQUIRE(after.ok());
  CHECK(after->health().status() == ipc::pb::HealthResponse::SERVING);
}

TEST_CASE("ipc server refuses a client without a certificate", "[ipc]") {
  ServerHarness harness;
  CHECK(Refused(harness, ""));
  CHECK(harness.SawEvent(ipc::kEventHandshakeFailed));
}

TEST_CASE("ipc server names the missing certificate when it refuses a client", "[ipc]") {
  ServerHarness harness;
  CHECK(Refused(harness, ""));
  CHECK(harness.EventLog().find("TLS handshake: peer did not return a certificate") !=
        std::string::npos);
}

TEST_CASE("ipc server refuses a client certificate from another CA", "[ipc]") {
  ServerHarness harness;
  CHECK(Refused(harness, "foreign"));
  CHECK(harness.SawEvent(ipc::kEventHandshakeFailed));
}

TEST_CASE("ipc server refuses a client certificate without a SPIFFE ID", "[ipc]") {
  ServerHarness harness;
  CHECK(Refused(harness, "nospiffe"));
  CHECK(Refused(harness, "twospiffe"));
  CHECK_FALSE(Refused(harness, "client"));  // the same path accepts a proper SVID
}

TEST_CASE("ipc server refuses a TLS 1.2 client", "[ipc]") {
  ServerHarness harness;
  CHECK(Refused(harness, "client", TLS1_2_VERSION));

  std::string output;
  int status = RunCommand(
      "echo | openssl s_client -tls1_2 -connect 127.0.0.1:" + std::to_string(harness.port()) +
          " -cert " + SharedPki().Path("client.pem") + " -key " + SharedPki().Path("client.key") +
          " -CAfile " + SharedPki().Path("ca.pem"),
      &output);
  CHECK(status != 0);
  CHECK(output.find("alert protocol version") != std::string::npos);
}

TEST_CASE("ipc server reloads its client CA bundle on Reload()", "[ipc]") {
  TempDir dir;
  std::string bundle = dir.path() + "/clients.pem";
  std::filesystem::copy_file(SharedPki().Path("ca.pem"), bundle);
  ServerHarness harness({}, [&](ipc::ServerOptions& o) { o.tls.ca_file = bundle; });
  CHECK(Refused(harness, "foreign"));

  std::string both;
  RunCommand("cat " + SharedPki().Path("ca.pem") + " " + SharedPki().Path("other-ca.pem") + " > " +
                 bundle + ".new && mv " + bundle + ".new " + bundle,
             &both);
  REQUIRE(harness.server().Reload().ok());
  CHECK_FALSE(Refused(harness, "foreign"));
  CHECK_FALSE(Refused(harness, "client"));
}

TEST_CASE("ipc server limits connections per caller", "[ipc]") {
  ServerHarness harness({}, [](ipc::ServerOptions& o) { o.max_connections_per_caller = 1; });
  auto first = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles("client"));
  REQUIRE(first != nullptr);
  first->Write(RequestFrame(1, HealthBody()));
  REQUIRE(first->ReadFrame().has_value());

  CHECK(Refused(harness, "client"));
  CHECK(harness.SawEvent(ipc::kEventConnectionLimit));
  CHECK_FALSE(Refused(harness, "client2"));  // another caller still gets in
}

TEST_CASE("ipc server limits connections in total", "[ipc]") {
  ServerHarness harness({}, [](ipc::ServerOptions& o) { o.max_connections = 1; });
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE((*client)->Call(HealthRequest()).ok());

  CHECK(Refused(harness, "client2"));
  CHECK(harness.SawEvent(ipc::kEventConnectionLimit));
  CHECK((*client)->Call(HealthRequest()).ok());
}

TEST_CASE("ipc server closes a connection that never starts its handshake", "[ipc]") {
  ServerHarness harness(
      {}, [](ipc::ServerOptions& o) { o.handshake_timeout = std::chrono::milliseconds(200); });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(harness.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  auto start = std::chrono::steady_clock::now();
  char byte;
  CHECK(::recv(fd, &byte, 1, 0) == 0);  // closed by the server, not timed out here
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  ::close(fd);
  CHECK(harness.EventLog().find("handshake timed out") != std::string::npos);
}

TEST_CASE("ipc server closes an idle connection and the client reconnects", "[ipc]") {
  ServerHarness harness(
      {}, [](ipc::ServerOptions& o) { o.idle_timeout = std::chrono::milliseconds(200); });
  auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(raw != nullptr);
  raw->Write(RequestFrame(1, HealthBody()));
  REQUIRE(raw->ReadFrame().has_value());
  CHECK(raw->WaitClosed(std::chrono::seconds(2)));

  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE((*client)->Call(HealthRequest()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its connection is closed
  CHECK((*client)->Call(HealthRequest()).ok());
}

}  // namespace
}  // namespace signet::testing
