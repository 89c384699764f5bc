// Client: the C++ side of the signet IPC protocol, for identity servers,
// signetctl and signet-bench.
//
// A Client holds a list of signet endpoints and one mutual-TLS connection (TLS
// 1.3 only) to the first that answers. Requests are pipelined: Send() may be
// called many times before any answer arrives; each gets its own request id and
// its answer is matched by id, whatever order the server completes them in.
//
// When the connection drops, the client connects to the next endpoint in the list
// and sends again every request still unanswered. Every operation in the protocol
// is safe to repeat (minting twice yields two valid credentials, never a wrong
// one), so a request is retried until it has been sent `max_attempts` times; then
// it fails with kUnavailable.
//
// Callbacks run on the client's own network thread: keep them short, and never call
// the blocking Call() from inside one.
//
// Lifetime: destroying the Client fails every unanswered request with kUnavailable
// and joins its thread.
//
// Thread safety: Send() and Call() may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ipc/request_handler.h"
#include "ipc/tls_options.h"
#include "signer/status.h"

namespace signet::ipc {

struct ClientOptions {
  // "host:port", "[v6addr]:port" or "unix:/path/to/socket", tried in order.
  std::vector<std::string> endpoints;
  TlsFiles tls;             // our certificate and key; ca_file: what the server must chain to
  std::string server_name;  // when set: SNI, and the DNS name the server certificate must match
  std::chrono::milliseconds connect_timeout{5000};
  size_t max_attempts = 0;  // sends of one request; 0 means twice the number of endpoints
  // A request with no answer after this long fails with kUnavailable (its late answer is
  // dropped). 0: no limit but max_attempts.
  std::chrono::milliseconds request_timeout{30000};
};

using ClientCallback = std::function<void(StatusOr<pb::Response>)>;

class Client {
 public:
  // Loads the TLS files and checks the endpoint list; connects on the first request.
  static StatusOr<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request` and returns at once. `done` runs once, on the client thread, with
  // the server's Response (which may itself carry an error), a frame-level error from
  // the server, or kUnavailable when no endpoint could answer in time.
  void Send(pb::Request request, ClientCallback done);

  // Sends `request` and waits for its answer. Fails with kFailedPrecondition when
  // called from a callback (the client thread).
  StatusOr<pb::Response> Call(pb::Request request);

  // The endpoint of the current (or last) connection, e.g. "127.0.0.1:4433".
  std::string current_endpoint() const;

  struct Impl;

 private:
  explicit Client(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace signet::ipc
