// HttpsServer: the public key endpoints relying parties fetch over HTTPS.
//
//   GET /.well-known/jwks.json              the JWK Set that verifies signet's JWTs
//   GET /.well-known/openid-configuration   OIDC discovery: issuer and jwks_uri
//   GET /bundle                             the SPIFFE trust bundle
//   GET /metrics                            Prometheus text from the MetricsRegistry
//   GET /healthz                            200 "ok", or 503 with the reason
//
// TLS 1.3 with a server certificate; no client certificate is asked for. The
// documents are not stored here: each request calls the provider functions, so
// the service layer always serves the current key set. The certificate and key
// reload like the IPC server's (polled, or on Reload()).
//
// Lifetime: the provider functions and the metrics registry must outlive the server.
// Thread safety: every method may be called from any thread but a network thread of
// this server. The provider functions are called from network threads, concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ipc/events.h"
#include "ipc/metrics.h"
#include "ipc/tls_options.h"
#include "signer/status.h"

namespace signet::ipc {

// Where the documents come from. Each returns the current JSON text.
struct DocumentProvider {
  std::function<std::string()> jwks_json;
  std::function<std::string()> bundle_json;
  std::function<Status()> health;  // OK: serving; an error: 503 with its message
};

struct HttpsOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;     // 0: any free port (see HttpsServer::port)
  TlsFiles tls;          // cert_file and key_file; ca_file is not used
  std::string issuer;    // e.g. "https://signet.example.org"; the OIDC `issuer`
  std::string jwks_uri;  // empty: issuer + "/.well-known/jwks.json"
  size_t threads = 1;
  std::chrono::milliseconds timeout{15000};  // handshake, and each request read and write
  std::chrono::milliseconds reload_poll{5000};
  size_t max_connections = 1024;
};

class HttpsServer {
 public:
  // `metrics` may be null (then /metrics answers 404); `hook` may be empty.
  static StatusOr<std::unique_ptr<HttpsServer>> Start(HttpsOptions options,
                                                      DocumentProvider documents,
                                                      MetricsRegistry* metrics, EventHook hook);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const;

  // Reloads the certificate and key now; on failure the old ones stay.
  Status Reload();

  struct Impl;

 private:
  explicit HttpsServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace signet::ipc
