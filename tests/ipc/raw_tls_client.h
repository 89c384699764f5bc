// A blocking TLS client written straight on OpenSSL, for tests that must send
// what signet's own client never would: oversized lengths, random bytes, partial
// frames, one byte a second, TLS 1.2.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ipc/frame.h"
#include "ipc/tls_options.h"

namespace signet::testing {

class RawTlsClient {
 public:
  struct Frame {
    ipc::FrameHeader header;
    std::string body;
  };

  // Connects to 127.0.0.1:port and completes a handshake. cert_file may be empty (no
  // client certificate). Returns null and fills `error` when the handshake fails.
  static std::unique_ptr<RawTlsClient> Connect(uint16_t port, const ipc::TlsFiles& files,
                                               int max_version = TLS1_3_VERSION,
                                               std::string* error = nullptr);
  ~RawTlsClient();

  bool Write(const std::string& bytes);

  // Reads one whole frame, or nullopt when the connection closes, fails or times out.
  std::optional<Frame> ReadFrame(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // True when the server closes the connection (or it fails) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The common name of the server's certificate.
  std::string PeerCommonName() const;

 private:
  RawTlsClient(int fd, SSL_CTX* ctx, SSL* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}
  bool ReadExact(char* out, size_t size, std::chrono::milliseconds timeout);
  // Bytes read (> 0), 0 when the connection closed or failed, -1 on timeout.
  int ReadSome(char* out, size_t size, std::chrono::milliseconds timeout);

  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
};

// A REQUEST frame carrying `request` with `id`.
std::string RequestFrame(uint64_t id, const std::string& body, uint8_t version = 1,
                         uint8_t type = 1);

}  // namespace signet::testing
