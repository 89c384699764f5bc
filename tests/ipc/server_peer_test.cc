// The IPC server against misbehaving peers: malformed frames, slow and
// truncated writers, unknown versions, and a client writing faster than the
// handler answers. None of them may disturb another client.
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <random>
#include <thread>

#include "ipc/frame.h"
#include "ipc/server.h"
#include "tests/ipc/harness.h"
#include "tests/ipc/raw_tls_client.h"

namespace signet::testing {
namespace {

using ipc::pb::Request;
using ipc::pb::Response;

std::string HealthBody() {
  return HealthRequest().SerializeAsString();
}

// Runs `disturb` against the server while a well-behaved client keeps asking; every
// one of its requests must be answered promptly.
void WellBehavedClientUnaffected(ServerHarness& harness, const std::function<void()>& disturb,
                                 std::chrono::milliseconds duration) {
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE(client.ok());
  REQUIRE((*client)->Call(HealthRequest()).ok());

  std::atomic<bool> done{false};
  std::thread disturber([&] {
    disturb();
    done = true;
  });
  auto start = std::chrono::steady_clock::now();
  int answered = 0;
  while (!done || std::chrono::steady_clock::now() - start < duration) {
    auto before = std::chrono::steady_clock::now();
    auto response = (*client)->Call(HealthRequest());
    REQUIRE(response.ok());
    REQUIRE(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(500));
    ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  disturber.join();
  CHECK(answered > 5);
}

TEST_CASE("ipc server closes a connection announcing an oversized frame, and only it", "[ipc]") {
  ServerHarness harness;
  bool closed = false;
  WellBehavedClientUnaffected(
      harness,
      [&] {
        auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
        ipc::FrameHeader header;
        header.length = ipc::kMaxFrameBody + 1;
        header.type = 1;
        std::string bytes(ipc::kFrameHeaderSize, '\0');
        ipc::EncodeFrameHeader(header, reinterpret_cast<uint8_t*>(bytes.data()));
        raw->Write(bytes);
        closed = raw->WaitClosed();
      },
      std::chrono::milliseconds(200));
  CHECK(closed);
  CHECK(harness.SawEvent(ipc::kEventMalformedFrame));
  CHECK(harness.EventLog().find("65537") != std::string::npos);
}

TEST_CASE("ipc server closes a connection sending random bytes, and only it", "[ipc]") {
  ServerHarness harness;
  bool closed = false;
  WellBehavedClientUnaffected(
      harness,
      [&] {
        std::mt19937 random(42);
        std::string noise(4096, '\0');
        for (char& c : noise) {
          c = static_cast<char>(random());
        }
        noise[0] = '\x7f';  // keep the announced length far above the limit, whatever the seed
        auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
        raw->Write(noise);
        closed = raw->WaitClosed();
      },
      std::chrono::milliseconds(200));
  CHECK(closed);
  CHECK(harness.SawEvent(ipc::kEventMalformedFrame));
}

TEST_CASE("ipc server closes a connection whose body is not a Request", "[ipc]") {
  ServerHarness harness;
  auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  raw->Write(RequestFrame(5, std::string("\xff\xff\xff\xff", 4)));
  CHECK(raw->WaitClosed());
  CHECK(harness.SawEvent(ipc::kEventMalformedFrame));
}

TEST_CASE("ipc server survives a truncated frame and a one-byte-a-second client", "[ipc]") {
  ServerHarness harness;
  WellBehavedClientUnaffected(
      harness,
      [&] {
        auto truncated = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
        std::string frame = RequestFrame(9, HealthBody() + std::string(100, '\0'));
        truncated->Write(frame.substr(0, frame.size() / 2));

        auto slow = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles("client2"));
        std::string whole = RequestFrame(10, HealthBody());
        for (size_t i = 0; i < 3; ++i) {
          slow->Write(whole.substr(i, 1));
          std::this_thread::sleep_for(std::chrono::seconds(1));
        }
        truncated.reset();  // closes mid-frame
        slow->Write(whole.substr(3));
        auto answer = slow->ReadFrame();
        REQUIRE(answer.has_value());
        CHECK(answer->header.request_id == 10);
      },
      std::chrono::milliseconds(0));
  CHECK(harness.EventLog().find("inside a frame") != std::string::npos);
}

TEST_CASE("ipc server answers an unknown version or type with an error frame", "[ipc]") {
  ServerHarness harness;
  auto raw = RawTlsClient::Connect(harness.port(), SharedPki().ClientFiles());
  REQUIRE(raw != nullptr);

  raw->Write(RequestFrame(7, HealthBody(), /*version=*/2));
  auto version_error = raw->ReadFrame();
  REQUIRE(version_error.has_value());
  CHECK(version_error->header.request_id == 7);
  CHECK(version_error->header.type == static_cast<uint8_t>(ipc::FrameType::kError));
  ipc::pb::Error error;
  REQUIRE(error.ParseFromString(version_error->body));
  CHECK(error.code() == "unsupported");

  raw->Write(RequestFrame(8, HealthBody(), 1, /*type=*/9));
  auto type_error = raw->ReadFrame();
  REQUIRE(type_error.has_value());
  CHECK(type_error->header.request_id == 8);
  REQUIRE(error.ParseFromString(type_error->body));
  CHECK(error.code() == "invalid_argument");

  raw->Write(RequestFrame(9, ""));  // a Request naming no operation
  auto no_op = raw->ReadFrame();
  REQUIRE(no_op.has_value());
  Response response;
  REQUIRE(response.ParseFromString(no_op->body));
  CHECK(response.error().code() == "unsupported");

  raw->Write(RequestFrame(10, HealthBody()));  // and the connection still works
  auto answer = raw->ReadFrame();
  REQUIRE(answer.has_value());
  CHECK(answer->header.request_id == 10);
  CHECK(answer->header.type == static_cast<uint8_t>(ipc::FrameType::kResponse));
}

TEST_CASE("ipc server stops reading at the in-flight cap and still answers everything", "[ipc]") {
  constexpr size_t kCap = 8;
  ServerHarness harness(TestHandler::Options{.hold = true},
                        [](ipc::ServerOptions& o) { o.max_in_flight_per_connection = kCap; });
  auto client = ipc::Client::Create(ClientOptionsFor({harness.endpoint()}));
  REQUIRE(client.ok());

  constexpr int kRequests = 1000;
  const std::string padding(4000, 'p');  // about 4 MB in all
  std::atomic<int> answered{0};
  std::promise<void> all_done;
  for (int i = 0; i < kRequests; ++i) {
    Request request;
    request.mutable_mint_access_token()->add_items()->set_subject(padding);
    (*client)->Send(request, [&](StatusOr<Response> response) {
      if (response.ok() && ++answered == kRequests) {
        all_done.set_value();
      }
    });
  }

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(harness.handler().received() == kCap);
  double read = harness.metrics().Value("signet_ipc_read_bytes_total", {});
  CHECK(read < 200 * 1024);  // the cap's frames and one read chunk, not the 4 MB sent
  CHECK(answered == 0);

  harness.handler().Release();
  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(answered == kRequests);
  CHECK(harness.handler().max_outstanding() <= kCap);
}

}  // namespace
}  // namespace signet::testing
