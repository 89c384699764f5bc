// TlsSocket, the server end of a TLS connection driven on the socket's descriptor,
// against a blocking OpenSSL client on loopback: slow readers, a read and a write
// outstanding together, records read together, Close() with operations pending,
// peers that give up mid-handshake.
#include "ipc/tls_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "ipc/frame.h"
#include "ipc/tls_context.h"
#include "tests/ipc/raw_tls_client.h"
#include "tests/ipc/test_pki.h"

namespace signet::testing {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// An io_context on its own thread and a loopback listener; Accept() hands back the
// server end of the next connection as a TlsSocket on a strand.
class Loopback {
 public:
  Loopback() : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    auto ctx = ipc::MakeTlsContext(ipc::TlsRole::kMutualServer, SharedPki().ServerFiles());
    REQUIRE(ctx.ok());
    ctx_ = *ctx;
  }

  ~Loopback() {
    work_.reset();
    if (runner_.joinable()) {
      runner_.join();
    }
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts one connection; the server's send buffer is kept small so that a client
  // that does not read blocks the server's writes after a few records.
  std::unique_ptr<ipc::TlsSocket> Accept() {
    asio::ip::tcp::socket accepted = acceptor_.accept();
    accepted.set_option(asio::socket_base::send_buffer_size(16 * 1024));
    asio::generic::stream_protocol::socket socket(
        asio::make_strand(io_), asio::generic::stream_protocol(AF_INET, IPPROTO_TCP),
        accepted.release());
    return std::make_unique<ipc::TlsSocket>(std::move(socket), ctx_);
  }

  // Runs the io_context from here on, until the Loopback goes away.
  void Run() {
    runner_ = std::thread([this] { io_.run(); });
  }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<ipc::SslContext> ctx_;
  std::thread runner_;
};

// The server end after a completed handshake with a RawTlsClient holding SVID `cert`.
struct Connected {
  std::unique_ptr<ipc::TlsSocket> server;
  std::unique_ptr<RawTlsClient> client;
};

Connected Connect(Loopback& loopback) {
  auto client = std::async(std::launch::async, [&] {
    return RawTlsClient::Connect(loopback.port(), SharedPki().ClientFiles());
  });
  Connected connected;
  connected.server = loopback.Accept();
  std::promise<error_code> handshake;
  connected.server->AsyncHandshake([&](const error_code& ec) { handshake.set_value(ec); });
  loopback.Run();
  connected.client = client.get();
  REQUIRE(connected.client != nullptr);
  REQUIRE_FALSE(handshake.get_future().get());
  return connected;
}

// Runs `work` on the socket's strand.
template <typename Work>
void OnStrand(ipc::TlsSocket& socket, Work work) {
  asio::post(socket.get_executor(), std::move(work));
}

// Closes `socket` on its strand and waits until it has, so that it may be destroyed here.
void CloseOnStrand(ipc::TlsSocket& socket) {
  std::promise<void> closed;
  OnStrand(socket, [&] {
    socket.Close();
    closed.set_value();
  });
  closed.get_future().wait();
}

// `count` frames of kMaxFrameBody bytes; frame i is filled with the byte i.
std::string ManyFrames(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    ipc::AppendFrame(out, ipc::FrameType::kResponse, i,
                     std::string(ipc::kMaxFrameBody, static_cast<char>(i)));
  }
  return out;
}

bool ReadsFrames(RawTlsClient& client, size_t count, std::chrono::milliseconds pause) {
  for (size_t i = 0; i < count; ++i) {
    auto frame = client.ReadFrame();
    if (!frame || frame->header.request_id != i ||
        frame->body != std::string(ipc::kMaxFrameBody, static_cast<char>(i))) {
      return false;
    }
    std::this_thread::sleep_for(pause);
  }
  return true;
}

TEST_CASE("tls socket delivers 8 MiB in full to a client that reads slowly", "[ipc]") {
  Loopback loopback;
  Connected c = Connect(loopback);
  constexpr size_t kFrames = 128;  // 8 MiB of bodies
  const std::string bytes = ManyFrames(kFrames);

  std::promise<error_code> written;
  OnStrand(*c.server, [&] {
    c.server->AsyncWrite(asio::buffer(bytes), [&](const error_code& ec) { written.set_value(ec); });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server blocks meanwhile

  CHECK(ReadsFrames(*c.client, kFrames, std::chrono::milliseconds(2)));
  auto done = written.get_future();
  REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK_FALSE(done.get());
  CloseOnStrand(*c.server);
}

TEST_CASE("tls socket completes a read while a large write is still pending", "[ipc]") {
  Loopback loopback;
  Connected c = Connect(loopback);
  constexpr size_t kFrames = 64;
  const std::string bytes = ManyFrames(kFrames);

  std::atomic<bool> write_done{false};
  std::promise<error_code> written;
  std::promise<std::pair<error_code, std::string>> read;
  char space[256];
  OnStrand(*c.server, [&] {
    c.server->AsyncWrite(asio::buffer(bytes), [&](const error_code& ec) {
      write_done = true;
      written.set_value(ec);
    });
    c.server->AsyncReadSome(asio::buffer(space), [&](const error_code& ec, size_t n) {
      read.set_value({ec, std::string(space, n)});
    });
  });

  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(c.client->Write("ping from the client"));
  auto got = read.get_future().get();
  CHECK_FALSE(got.first);
  CHECK(got.second == "ping from the client");
  CHECK_FALSE(write_done);  // the client has read nothing yet

  CHECK(ReadsFrames(*c.client, kFrames, std::chrono::milliseconds(0)));
  CHECK_FALSE(written.get_future().get());
  CloseOnStrand(*c.server);
}

// Reads once from `socket` into a buffer of `size` bytes, on its strand.
std::string ReadOnce(ipc::TlsSocket& socket, size_t size) {
  std::promise<std::string> read;
  std::vector<char> space(size);
  OnStrand(socket, [&] {
    socket.AsyncReadSome(asio::buffer(space), [&](const error_code& ec, size_t n) {
      read.set_value(ec ? "error: " + ec.message() : std::string(space.data(), n));
    });
  });
  return read.get_future().get();
}

TEST_CASE("tls socket hands records that arrived together to one read, up to its size", "[ipc]") {
  Loopback loopback;
  Connected c = Connect(loopback);
  REQUIRE(c.client->Write("one"));  // each Write is a record of its own
  REQUIRE(c.client->Write("two"));
  REQUIRE(c.client->Write("three"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  CHECK(ReadOnce(*c.server, 256) == "onetwothree");

  REQUIRE(c.client->Write("four"));
  REQUIRE(c.client->Write("five"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(ReadOnce(*c.server, 6) == "fourfi");
  CHECK(ReadOnce(*c.server, 6) == "ve");
  CloseOnStrand(*c.server);
}

TEST_CASE("tls socket reads what arrives after the socket was drained, early or late", "[ipc]") {
  Loopback loopback;
  Connected c = Connect(loopback);
  REQUIRE(c.client->Write("one"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(ReadOnce(*c.server, 256) == "one");  // a short read: the socket is empty now

  // A read that waits before the record is sent...
  auto late = std::async(std::launch::async, [&] { return ReadOnce(*c.server, 256); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(c.client->Write("two"));
  REQUIRE(late.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(late.get() == "two");

  // ...and one started only after the record arrived on the drained socket.
  REQUIRE(c.client->Write("three"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto early = std::async(std::launch::async, [&] { return ReadOnce(*c.server, 256); });
  REQUIRE(early.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(early.get() == "three");
  CloseOnStrand(*c.server);
}

TEST_CASE("tls socket Close aborts a pending read and write", "[ipc]") {
  Loopback loopback;
  Connected c = Connect(loopback);
  const std::string bytes = ManyFrames(64);

  std::promise<error_code> written;
  std::promise<error_code> read;
  char space[256];
  OnStrand(*c.server, [&] {
    c.server->AsyncWrite(asio::buffer(bytes), [&](const error_code& ec) { written.set_value(ec); });
    c.server->AsyncReadSome(asio::buffer(space),
                            [&](const error_code& ec, size_t) { read.set_value(ec); });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CloseOnStrand(*c.server);

  CHECK(read.get_future().get() == asio::error::operation_aborted);
  CHECK(written.get_future().get() == asio::error::operation_aborted);
  CHECK(c.client->WaitClosed());
}

TEST_CASE("tls socket reports a peer that closes mid-handshake as a truncated stream", "[ipc]") {
  Loopback loopback;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(loopback.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  auto server = loopback.Accept();
  std::promise<error_code> handshake;
  server->AsyncHandshake([&](const error_code& ec) { handshake.set_value(ec); });
  loopback.Run();

  // The header of a handshake record announcing 512 bytes, then 3 of them.
  const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
  REQUIRE(::send(fd, partial, sizeof(partial), MSG_NOSIGNAL) == sizeof(partial));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::close(fd);

  CHECK(handshake.get_future().get() == asio::ssl::error::stream_truncated);
  CloseOnStrand(*server);
}

}  // namespace
}  // namespace signet::testing
