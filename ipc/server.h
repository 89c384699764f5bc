// Server: the mutual-TLS IPC listener identity servers call to mint credentials.
//
// It accepts connections on TCP and, optionally, on a Unix domain socket, runs a
// TLS 1.3 handshake that requires a client certificate chained to the configured
// CA bundle with exactly one SPIFFE ID URI SAN, then reads frames (ipc/frame.h,
// docs/protocol.md) and hands each decoded request to the RequestHandler with the
// caller's identity. Responses are written in completion order; all responses
// ready at once go out in one TLS write.
//
// Limits: a handshake and an idle timeout; a cap on connections in total and per
// caller; a cap on requests in flight per connection, at which the server stops
// reading that connection until answers go out (back-pressure, not buffering).
// A frame with an unknown version or type is answered with an ERROR frame; a
// malformed frame (oversized length, undecodable body) closes only its connection
// and is reported through the event hook.
//
// The certificate, key and CA bundle are reloaded when their files change (polled)
// or on Reload(); live connections are not dropped, new handshakes use the new files.
//
// Lifetime: the handler, the metrics registry and the hook must outlive the Server.
// Destroying the Server stops it and waits until every callback it handed to the
// handler has run.
//
// Thread safety: every method may be called from any thread except a network
// thread of this server (the destructor and Stop() wait for those threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ipc/events.h"
#include "ipc/metrics.h"
#include "ipc/request_handler.h"
#include "ipc/tls_options.h"
#include "signer/status.h"

namespace signet::ipc {

struct ServerOptions {
  std::string tcp_address = "127.0.0.1";  // empty: no TCP listener
  uint16_t tcp_port = 0;                  // 0: any free port (see Server::tcp_port)
  // Empty: no Unix socket listener. The socket file is made with `unix_mode` (whatever the
  // umask), before it listens: its owner and group may connect, and still need a client
  // certificate. Not yet: choosing the file's group; it is the process's.
  std::string unix_path;
  uint32_t unix_mode = 0660;

  TlsFiles tls;  // server certificate and key; ca_file: the bundle client certificates chain to

  size_t threads = 1;  // network threads
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};  // no bytes read and nothing in flight
  std::chrono::milliseconds reload_poll{5000};    // 0: reload only on Reload()
  size_t max_connections = 4096;
  size_t max_connections_per_caller = 256;
  size_t max_in_flight_per_connection = 1024;
};

class Server {
 public:
  // Loads the TLS files, binds the listeners and starts the network threads.
  // `metrics` may be null; `hook` may be empty.
  static StatusOr<std::unique_ptr<Server>> Start(ServerOptions options, RequestHandler& handler,
                                                 MetricsRegistry* metrics, EventHook hook);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (useful with tcp_port 0).
  uint16_t tcp_port() const;

  // Reloads the certificate, key and CA bundle now. On failure the old ones stay.
  Status Reload();

  // Stops accepting and closes every connection. Requests still with the handler
  // complete into the void. Idempotent; the destructor calls it.
  void Stop();

  // Connections open now (handshaking or established).
  size_t connection_count() const;

  struct Core;

 private:
  explicit Server(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace signet::ipc
