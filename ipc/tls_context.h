// Internal to ipc/: building OpenSSL contexts through Asio, and reloading them.
//
// Every context is TLS 1.3 only. A mutual-TLS server context requires a client
// certificate that chains to the CA bundle and carries exactly one URI SAN, a
// SPIFFE ID; anything else fails the handshake with an alert. Session tickets
// are off, so every connection is authenticated by a full handshake against the
// context in force when it began.
//
// ReloadingTlsContext keeps the current context behind a shared_ptr: a reload
// builds a new context and swaps the pointer, so handshakes started afterwards
// use the new files while live connections keep the context they began with.
// A reload that fails (a half-written file, a key that does not match) keeps the
// old context.
//
// Thread safety: ReloadingTlsContext may be used from any thread.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "ipc/tls_options.h"
#include "signer/status.h"

namespace signet::ipc {

enum class TlsRole {
  kMutualServer,  // server that requires a client certificate with a SPIFFE ID
  kServer,        // server that asks for no client certificate (the HTTPS endpoints)
  kClient,        // client presenting a certificate, verifying the server against ca_file
};

using SslContext = boost::asio::ssl::context;

StatusOr<std::shared_ptr<SslContext>> MakeTlsContext(TlsRole role, const TlsFiles& files);

// The SPIFFE ID of `cert`: its one URI SAN, which must start with "spiffe://".
StatusOr<std::string> SpiffeIdOf(X509* cert);

class ReloadingTlsContext {
 public:
  ReloadingTlsContext(TlsRole role, TlsFiles files) : role_(role), files_(std::move(files)) {}

  // Builds a context from the files now, whatever their times.
  Status Reload();

  // Reloads when a file's modification time or size changed since the last attempt.
  // Returns true when it reloaded, false when nothing changed, or the load error
  // (reported once per change).
  StatusOr<bool> ReloadIfChanged();

  // The context for a new connection; nullptr before the first successful Reload().
  std::shared_ptr<SslContext> current() const;

 private:
  struct Stamp {
    std::filesystem::file_time_type mtime[3];
    uintmax_t size[3] = {0, 0, 0};
    bool operator==(const Stamp&) const = default;
  };
  Stamp StampFiles() const;

  const TlsRole role_;
  const TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<SslContext> current_;
  Stamp last_attempt_;
};

}  // namespace signet::ipc
