// The client library: failover between endpoints, Unix sockets, certificate reload
// seen from the client side.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "ipc/client.h"
#include "tests/ipc/harness.h"
#include "tests/ipc/raw_tls_client.h"

namespace signet::testing {
namespace {

using ipc::pb::Request;
using ipc::pb::Response;

TEST_CASE("ipc client fails over to the next server when the first stops", "[ipc]") {
  ServerHarness first;
  ServerHarness second;
  auto client = ipc::Client::Create(ClientOptionsFor({first.endpoint(), second.endpoint()}));
  REQUIRE(client.ok());
  REQUIRE((*client)->Call(HealthRequest()).ok());
  CHECK((*client)->current_endpoint() == first.endpoint());

  first.StopServer();
  auto response = (*client)->Call(HealthRequest());
  REQUIRE(response.ok());
  CHECK((*client)->current_endpoint() == second.endpoint());
  CHECK(second.handler().received() == 1);
}

TEST_CASE("ipc client resends requests in flight when their server goes away", "[ipc]") {
  ServerHarness first(TestHandler::Options{.hold = true});
  ServerHarness second;
  auto client = ipc::Client::Create(ClientOptionsFor({first.endpoint(), second.endpoint()}));
  REQUIRE(client.ok());

  constexpr int kRequests = 10;
  std::atomic<int> answered{0};
  std::promise<void> all_done;
  for (int i = 0; i < kRequests; ++i) {
    Request request;
    request.mutable_mint_access_token()->add_items()->set_subject("s" + std::to_string(i));
    (*client)->Send(request, [&, i](StatusOr<Response> response) {
      REQUIRE(response.ok());
      CHECK(response->mint_access_token().items(0).token().token() == "at:s" + std::to_string(i));
      if (++answered == kRequests) {
        all_done.set_value();
      }
    });
  }
  for (int i = 0; i < 200 && first.handler().received() < kRequests; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(first.handler().received() == kRequests);

  first.server().Stop();  // the first server's answers are still held: they never arrive
  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(second.handler().received() == kRequests);
}

TEST_CASE("ipc client reports unavailable when no endpoint answers", "[ipc]") {
  uint16_t dead_port;
  {
    ServerHarness gone;
    dead_port = gone.port();
  }
  auto options = ClientOptionsFor({"127.0.0.1:" + std::to_string(dead_port)});
  auto client = ipc::Client::Create(options);
  REQUIRE(client.ok());
  auto response = (*client)->Call(HealthRequest());
  REQUIRE_FALSE(response.ok());
  CHECK(response.status().code() == Code::kUnavailable);
}

TEST_CASE("ipc client gives up on a request the server never answers", "[ipc]") {
  ServerHarness harness(TestHandler::Options{.hold = true});
  auto options = ClientOptionsFor({harness.endpoint()});
  options.request_timeout = std::chrono::milliseconds(300);
  auto client = ipc::Client::Create(options);
  REQUIRE(client.ok());

  auto start = std::chrono::steady_clock::now();
  auto response = (*client)->Call(HealthRequest());
  REQUIRE_FALSE(response.ok());
  CHECK(response.status().code() == Code::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("ipc server serves a Unix domain socket", "[ipc]") {
  TempDir dir;
  std::string path = dir.path() + "/signet.sock";
  ServerHarness harness({}, [&](ipc::ServerOptions& o) { o.unix_path = path; });
  auto client = ipc::Client::Create(ClientOptionsFor({"unix:" + path}));
  REQUIRE(client.ok());
  auto response = (*client)->Call(HealthRequest());
  REQUIRE(response.ok());
  CHECK(response->health().detail() == "spiffe://example.org/idp");
}

TEST_CASE("ipc server makes its Unix socket for owner and group only, whatever the umask",
          "[ipc]") {
  TempDir dir;
  std::string path = dir.path() + "/signet.sock";
  mode_t before = ::umask(0);

  ServerHarness harness({}, [&](ipc::ServerOptions& o) { o.unix_path = path; });
  ::umask(before);

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0660);
}

void ReplaceFile(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".tmp", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".tmp", to);
}

TEST_CASE("ipc server reloads changed certificate files without dropping connections", "[ipc]") {
  TempDir dir;
  ipc::TlsFiles live{dir.path() + "/server.pem", dir.path() + "/server.key",
                     SharedPki().Path("ca.pem")};
  ReplaceFile(SharedPki().Path("server.pem"), live.cert_file);
  ReplaceFile(SharedPki().Path("server.key"), live.key_file);
  ServerHarness harness({}, [&](ipc::ServerOptions& o) {
    o.tls = live;
    o.reload_poll = std::chrono::milliseconds(50);
  });

  auto old_connection = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(old_connection != nullptr);
  CHECK(old_connection->PeerCommonName() == "signet-server-1");
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE((*client)->Call(HealthRequest()).ok());

  ReplaceFile(SharedPki().Path("server2.key"), live.key_file);
  ReplaceFile(SharedPki().Path("server2.pem"), live.cert_file);
  std::string seen;
  for (int i = 0; i < 100 && seen != "signet-server-2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto fresh = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
    REQUIRE(fresh != nullptr);
    seen = fresh->PeerCommonName();
  }
  CHECK(seen == "signet-server-2");
  CHECK(harness.SawEvent(ipc::kEventTlsReloaded));

  old_connection->Write(RequestFrame(42, HealthRequest().SerializeAsString()));
  auto answer = old_connection->ReadFrame();
  REQUIRE(answer.has_value());
  CHECK(answer->header.request_id == 42);
  CHECK((*client)->Call(HealthRequest()).ok());
}

TEST_CASE("ipc server reloads certificate files on Reload()", "[ipc]") {
  TempDir dir;
  ipc::TlsFiles live{dir.path() + "/server.pem", dir.path() + "/server.key",
                     SharedPki().Path("ca.pem")};
  ReplaceFile(SharedPki().Path("server.pem"), live.cert_file);
  ReplaceFile(SharedPki().Path("server.key"), live.key_file);
  ServerHarness harness({}, [&](ipc::ServerOptions& o) { o.tls = live; });

  ReplaceFile(SharedPki().Path("server2.key"), live.key_file);
  ReplaceFile(SharedPki().Path("server2.pem"), live.cert_file);
  auto before = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(before != nullptr);
  CHECK(before->PeerCommonName() == "signet-server-1");  // no polling: nothing changed yet

  REQUIRE(harness.server().Reload().ok());
  auto after = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(after != nullptr);
  CHECK(after->PeerCommonName() == "signet-server-2");

  std::filesystem::resize_file(live.key_file, 10);  // a broken key keeps the last good one
  CHECK_FALSE(harness.server().Reload().ok());
  auto still = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(still != nullptr);
  CHECK(still->PeerCommonName() == "signet-server-2");
}

}  // namespace
}  // namespace signet::testing
