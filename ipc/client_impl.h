// Internal to ipc/: the state behind a Client, shared by client.cc (requests,
// deadlines, lifetime) and client_connection.cc (connecting, failover, reading and
// writing frames).
//
// Thread safety: everything but `name_mu`/`current_name` is touched only on the
// client's own thread (the io_context's one runner).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "ipc/client.h"
#include "ipc/frame.h"
#include "ipc/tls_context.h"

namespace signet::ipc {

namespace asio = boost::asio;
using GenericSocket = asio::generic::stream_protocol::socket;

struct Endpoint {
  bool unix_socket = false;
  std::string host;  // or the socket path
  std::string port;
};

// "host:port", "[v6]:port" or "unix:/path".
StatusOr<Endpoint> ParseEndpoint(const std::string& text);

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  struct Pending {
    std::string frame;
    ClientCallback done;
    size_t attempts = 0;
    bool sent_on_current = false;
    std::chrono::steady_clock::time_point deadline;
  };

  struct Connection {
    Connection(asio::io_context& io, SslContext& ctx) : stream(GenericSocket(io), ctx), timer(io) {}
    asio::ssl::stream<GenericSocket> stream;
    asio::steady_timer timer;
    FrameDecoder decoder;
    std::string queued;
    std::string writing;
    bool write_busy = false;
    bool ready = false;
    std::string name;
  };

  Impl(ClientOptions opts, std::vector<Endpoint> parsed, std::shared_ptr<SslContext> context)
      : options(std::move(opts)),
        endpoints(std::move(parsed)),
        ctx(std::move(context)),
        backoff(io),
        sweep(io) {}

  void Send(pb::Request request, ClientCallback done);
  void Connect();
  void OnConnected(const std::shared_ptr<Connection>& c);
  void Flush(const std::shared_ptr<Connection>& c);
  void Read(const std::shared_ptr<Connection>& c);
  void OnFrame(const FrameView& frame);
  void Fail(std::shared_ptr<Connection> c, const std::string& reason);
  void Shutdown();
  void Sweep();

  const ClientOptions options;
  const std::vector<Endpoint> endpoints;
  const std::shared_ptr<SslContext> ctx;
  size_t max_attempts = 0;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::thread::id thread_id;

  // Touched only on the client thread.
  std::map<uint64_t, Pending> pending;
  uint64_t next_id = 1;
  std::shared_ptr<Connection> conn;
  size_t endpoint_index = 0;
  size_t failures_in_row = 0;
  asio::steady_timer backoff;
  asio::steady_timer sweep;  // fails requests past their deadline
  bool sweeping = false;
  bool closing = false;

  mutable std::mutex name_mu;
  std::string current_name;
};

}  // namespace signet::ipc
