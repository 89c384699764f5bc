// Internal to ipc/: the server end of a TLS connection, with OpenSSL driven
// directly on the socket's descriptor.
//
// asio::ssl::stream keeps two 17 KiB buffers of its own and an OpenSSL BIO pair
// (2 x 17 KiB) between the SSL and the socket for as long as the connection
// lives, ~68 KiB of resident memory for every idle connection. TlsSocket has the
// SSL read and write the non-blocking socket itself (through a BIO that calls
// recv/send, the latter with MSG_NOSIGNAL) and asks Asio's reactor only for
// readiness, with socket.async_wait. SSL_MODE_RELEASE_BUFFERS lets OpenSSL free
// its record buffers while the connection is idle.
//
// Operations: at most one handshake or read, and at most one write, outstanding
// at a time; a read and a write may be outstanding together. Each SSL call is
// retried when the socket becomes ready in the direction OpenSSL asked for,
// whichever operation it is (SSL_read may want to write, SSL_write to read).
// Handlers are never called from inside the initiating function. Errors arrive
// as error_codes the way asio::ssl::stream reports them: asio::error::eof for a
// close_notify, asio::ssl::error::stream_truncated for a peer that closed without
// one, the OpenSSL error (asio::error::get_ssl_category(), so that message()
// names the reason) for a protocol failure, a system error for a failed
// recv/send. Close() completes pending operations with operation_aborted.
//
// Ownership and lifetime: TlsSocket owns the socket, the SSL and a reference to
// the context the SSL was made from. A pending operation holds its handler, so a
// handler that owns the TlsSocket's owner (ServerSession captures
// shared_from_this) keeps it alive until the operation completes; the TlsSocket
// must not be destroyed while operations are pending otherwise.
//
// Thread safety: none. Every call, and every handler, runs on the socket's
// executor (a strand), so SSL calls never overlap.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>

#include "ipc/tls_context.h"

namespace signet::ipc {

class TlsSocket {
 public:
  using Handler = std::function<void(const boost::system::error_code&)>;
  using ReadHandler = std::function<void(const boost::system::error_code&, size_t)>;

  // Takes a connected socket and makes the SSL, in server (accept) state, from
  // `ctx`. A failure here (no memory, a socket that cannot be made non-blocking)
  // is reported by AsyncHandshake.
  TlsSocket(boost::asio::generic::stream_protocol::socket socket, std::shared_ptr<SslContext> ctx);
  ~TlsSocket();

  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  void AsyncHandshake(Handler handler);

  // Reads at least one byte into `buffer`, at most its size: the data of every record
  // already received that fits, so that requests sent together are read together.
  void AsyncReadSome(boost::asio::mutable_buffer buffer, ReadHandler handler);

  // Writes all of `buffer`, which must stay valid and unchanged until the handler runs.
  void AsyncWrite(boost::asio::const_buffer buffer, Handler handler);

  // Shuts the socket down and closes it, without a close_notify. Pending
  // operations complete with operation_aborted; later ones fail.
  void Close();

  SSL* native_handle() { return ssl_.get(); }
  boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }

  // What the socket BIO leaves for the SSL call's caller: the descriptor and the
  // errno of a recv/send that failed for another reason than "would block".
  struct Transport {
    int fd = -1;
    int error = 0;
    // The last recv found the socket empty, or emptied it (a short read): a read attempted
    // now would only see EAGAIN, so the next read may wait for readiness at once.
    bool drained = false;
  };

 private:
  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  // What one SSL call came to: finished (with `ec` set on failure), or waiting for
  // the socket to become ready in direction `wait`.
  struct Outcome {
    bool waiting = false;
    boost::asio::socket_base::wait_type wait = boost::asio::socket_base::wait_read;
    boost::system::error_code ec;
  };

  // Runs `call` (an SSL function) on a clean error queue and classifies its result.
  template <typename Call>
  Outcome Attempt(Call call);

  void ContinueHandshake(Handler handler, bool initiating);
  void ContinueRead(boost::asio::mutable_buffer buffer, ReadHandler handler, bool initiating);
  void ContinueWrite(boost::asio::const_buffer rest, Handler handler, bool initiating);

  // Calls `handler` with `args`: directly when an operation finishes after a wait, through
  // the executor when it finishes inside the initiating call.
  template <typename H, typename... Args>
  void Deliver(bool initiating, H handler, Args... args);

  // The error a resumed operation must finish with instead of continuing: the wait's
  // own error, or operation_aborted once Close() has run; success otherwise.
  boost::system::error_code Interrupted(const boost::system::error_code& wait_error) const;

  std::shared_ptr<SslContext> ctx_;  // outlives ssl_
  boost::asio::generic::stream_protocol::socket socket_;
  Transport transport_;  // the BIO's state; outlives ssl_
  std::unique_ptr<SSL, SslFree> ssl_;
  boost::system::error_code setup_error_;
  bool closed_ = false;
};

}  // namespace signet::ipc
