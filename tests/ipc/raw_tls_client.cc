#include "tests/ipc/raw_tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

namespace signet::testing {

std::unique_ptr<RawTlsClient> RawTlsClient::Connect(uint16_t port, const ipc::TlsFiles& files,
                                                    int max_version, std::string* error) {
  auto fail = [&](const std::string& why) -> std::unique_ptr<RawTlsClient> {
    if (error != nullptr) {
      char text[256] = "";
      ERR_error_string_n(ERR_get_error(), text, sizeof(text));
      *error = why + ": " + text;
    }
    ERR_clear_error();
    return nullptr;
  };

  ::signal(SIGPIPE, SIG_IGN);  // a refused connection must fail the write, not the test
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return fail("connect");
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_load_verify_locations(ctx, files.ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!files.cert_file.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::unique_ptr<RawTlsClient> client(new RawTlsClient(fd, ctx, ssl));
  if (SSL_connect(ssl) != 1) {
    return fail("SSL_connect");
  }
  return client;
}

RawTlsClient::~RawTlsClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
  ::close(fd_);
}

bool RawTlsClient::Write(const std::string& bytes) {
  return bytes.empty() || SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) > 0;
}

int RawTlsClient::ReadSome(char* out, size_t size, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (SSL_pending(ssl_) == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
        return -1;
      }
    }
    int n = SSL_read(ssl_, out, static_cast<int>(size));
    if (n > 0) {
      return n;
    }
    int reason = SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (reason != SSL_ERROR_WANT_READ) {
      return 0;
    }
  }
}

bool RawTlsClient::ReadExact(char* out, size_t size, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t got = 0;
  while (got < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int n = ReadSome(out + got, size - got, left);
    if (n <= 0) {
      return false;
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

std::optional<RawTlsClient::Frame> RawTlsClient::ReadFrame(std::chrono::milliseconds timeout) {
  char header[ipc::kFrameHeaderSize];
  if (!ReadExact(header, sizeof(header), timeout)) {
    return std::nullopt;
  }
  Frame frame;
  frame.header = ipc::DecodeFrameHeader(reinterpret_cast<const uint8_t*>(header));
  frame.body.resize(frame.header.length);
  if (!ReadExact(frame.body.data(), frame.body.size(), timeout)) {
    return std::nullopt;
  }
  return frame;
}

bool RawTlsClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    int n = ReadSome(buffer, sizeof(buffer), left);
    if (n == 0) {
      return true;
    }
    if (n < 0) {
      return false;
    }
  }
}

std::string RawTlsClient::PeerCommonName() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) {
    return "";
  }
  char name[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof(name));
  return name;
}

std::string RequestFrame(uint64_t id, const std::string& body, uint8_t version, uint8_t type) {
  ipc::FrameHeader header;
  header.length = static_cast<uint32_t>(body.size());
  header.version = version;
  header.type = type;
  header.request_id = id;
  std::string out(ipc::kFrameHeaderSize, '\0');
  ipc::EncodeFrameHeader(header, reinterpret_cast<uint8_t*>(out.data()));
  return out + body;
}

}  // namespace signet::testing
