#include "ipc/tls_socket.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <utility>

namespace signet::ipc {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// The socket BIO: recv and send on the descriptor in TlsSocket::Transport. OpenSSL's own
// socket BIO writes with write(2), which raises SIGPIPE when the peer has gone; send with
// MSG_NOSIGNAL fails with EPIPE instead.
int TransportRead(BIO* bio, char* out, size_t size, size_t* read) {
  auto* transport = static_cast<TlsSocket::Transport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  *read = 0;
  ssize_t n;
  do {
    n = ::recv(transport->fd, out, size, 0);
  } while (n < 0 && errno == EINTR);

  transport->drained = false;
  if (n > 0) {
    *read = static_cast<size_t>(n);
    transport->drained = *read < size;
    return 1;
  }
  if (n == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_read(bio);
    transport->drained = true;
  } else {
    transport->error = errno;
  }
  return 0;
}

int TransportWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  auto* transport = static_cast<TlsSocket::Transport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  *written = 0;
  ssize_t n;
  do {
    n = ::send(transport->fd, data, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);

  if (n >= 0) {
    *written = static_cast<size_t>(n);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_write(bio);
  } else {
    transport->error = errno;
  }
  return 0;
}

long TransportCtrl(BIO* bio, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

// Made once, on first use, and kept for the life of the process; null when OpenSSL
// could not make it (out of memory).
const BIO_METHOD* TransportMethod() {
  static BIO_METHOD* const method = [] {
    int index = BIO_get_new_index();
    if (index == -1) {
      return static_cast<BIO_METHOD*>(nullptr);
    }
    BIO_METHOD* made = BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "signet socket");
    if (made == nullptr) {
      return made;
    }
    if (BIO_meth_set_read_ex(made, TransportRead) != 1 ||
        BIO_meth_set_write_ex(made, TransportWrite) != 1 ||
        BIO_meth_set_ctrl(made, TransportCtrl) != 1) {
      BIO_meth_free(made);
      return static_cast<BIO_METHOD*>(nullptr);
    }
    return made;
  }();
  return method;
}

// The error code of the first OpenSSL error queued, the way asio::ssl::stream reports it.
error_code QueuedSslError() {
  unsigned long error = ERR_get_error();
  if (error == 0) {
    return asio::ssl::error::unspecified_system_error;
  }
  if (ERR_GET_LIB(error) == ERR_LIB_SSL &&
      ERR_GET_REASON(error) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return asio::ssl::error::stream_truncated;
  }
  return error_code(static_cast<int>(error), asio::error::get_ssl_category());
}

}  // namespace

TlsSocket::TlsSocket(asio::generic::stream_protocol::socket socket, std::shared_ptr<SslContext> ctx)
    : ctx_(std::move(ctx)), socket_(std::move(socket)) {
  ERR_clear_error();
  transport_.fd = socket_.native_handle();
  socket_.non_blocking(true, setup_error_);
  if (setup_error_) {
    return;
  }

  ssl_.reset(SSL_new(ctx_->native_handle()));
  const BIO_METHOD* method = TransportMethod();
  BIO* bio = ssl_ != nullptr && method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    setup_error_ = QueuedSslError();
    ssl_.reset();
    ERR_clear_error();
    return;
  }
  BIO_set_data(bio, &transport_);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);  // the SSL owns the BIO from here
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // One recv takes every record that has arrived, not a record header then its body.
  SSL_set_read_ahead(ssl_.get(), 1);
  SSL_set_accept_state(ssl_.get());
}

TlsSocket::~TlsSocket() = default;

template <typename Call>
TlsSocket::Outcome TlsSocket::Attempt(Call call) {
  ERR_clear_error();
  transport_.error = 0;
  int result = call(ssl_.get());

  Outcome outcome;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_NONE:
      break;
    case SSL_ERROR_WANT_READ:
      outcome.waiting = true;
      outcome.wait = asio::socket_base::wait_read;
      break;
    case SSL_ERROR_WANT_WRITE:
      outcome.waiting = true;
      outcome.wait = asio::socket_base::wait_write;
      break;
    case SSL_ERROR_ZERO_RETURN:
      outcome.ec = asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      // errno 0: the peer closed the connection without a close_notify.
      outcome.ec = transport_.error != 0
                       ? error_code(transport_.error, boost::system::system_category())
                       : error_code(asio::ssl::error::stream_truncated);
      break;
    default:
      outcome.ec = QueuedSslError();
      break;
  }
  ERR_clear_error();
  return outcome;
}

template <typename H, typename... Args>
void TlsSocket::Deliver(bool initiating, H handler, Args... args) {
  if (!initiating) {
    handler(args...);
    return;
  }
  asio::post(socket_.get_executor(),
             [handler = std::move(handler), args...]() mutable { handler(args...); });
}

error_code TlsSocket::Interrupted(const error_code& wait_error) const {
  if (closed_) {
    return asio::error::operation_aborted;
  }
  return wait_error;
}

void TlsSocket::AsyncHandshake(Handler handler) {
  if (setup_error_ || closed_) {
    error_code ec = closed_ ? error_code(asio::error::bad_descriptor) : setup_error_;
    Deliver(/*initiating=*/true, std::move(handler), ec);
    return;
  }
  ContinueHandshake(std::move(handler), /*initiating=*/true);
}

void TlsSocket::ContinueHandshake(Handler handler, bool initiating) {
  Outcome outcome = Attempt([](SSL* ssl) { return SSL_do_handshake(ssl); });

  if (outcome.waiting) {
    socket_.async_wait(outcome.wait,
                       [this, handler = std::move(handler)](const error_code& ec) mutable {
                         if (error_code stop = Interrupted(ec)) {
                           handler(stop);
                           return;
                         }
                         ContinueHandshake(std::move(handler), /*initiating=*/false);
                       });
    return;
  }

  Deliver(initiating, std::move(handler), outcome.ec);
}

void TlsSocket::AsyncReadSome(asio::mutable_buffer buffer, ReadHandler handler) {
  if (ssl_ == nullptr || closed_ || buffer.size() == 0) {
    error_code ec =
        ssl_ == nullptr || closed_ ? error_code(asio::error::bad_descriptor) : error_code();
    Deliver(/*initiating=*/true, std::move(handler), ec, size_t{0});
    return;
  }
  ContinueRead(buffer, std::move(handler), /*initiating=*/true);
}

void TlsSocket::ContinueRead(asio::mutable_buffer buffer, ReadHandler handler, bool initiating) {
  size_t bytes = 0;
  Outcome outcome;
  if (initiating && transport_.drained && SSL_has_pending(ssl_.get()) == 0) {
    // Nothing buffered and the socket was empty: skip a recv that would see EAGAIN (one
    // system call per request when requests arrive one at a time). The wait re-arms the
    // descriptor, so data that arrived meanwhile still wakes it.
    outcome.waiting = true;
    outcome.wait = asio::socket_base::wait_read;
  } else {
    outcome =
        Attempt([&](SSL* ssl) { return SSL_read_ex(ssl, buffer.data(), buffer.size(), &bytes); });
  }

  // SSL_read_ex returns one record's data at a time. The records already received go
  // to the reader together, so that requests that arrived together are answered
  // together (one write, one wake-up of the peer). What stops this loop is left for
  // the next read: a wait finds the socket ready, an error is reported again.
  while (!outcome.waiting && !outcome.ec && bytes < buffer.size() &&
         SSL_has_pending(ssl_.get()) == 1) {
    size_t more = 0;
    Outcome next = Attempt([&](SSL* ssl) {
      return SSL_read_ex(ssl, static_cast<uint8_t*>(buffer.data()) + bytes, buffer.size() - bytes,
                         &more);
    });
    if (next.waiting || next.ec) {
      break;
    }
    bytes += more;
  }

  if (outcome.waiting) {
    socket_.async_wait(outcome.wait,
                       [this, buffer, handler = std::move(handler)](const error_code& ec) mutable {
                         if (error_code stop = Interrupted(ec)) {
                           handler(stop, 0);
                           return;
                         }
                         ContinueRead(buffer, std::move(handler), /*initiating=*/false);
                       });
    return;
  }

  if (outcome.ec) {
    bytes = 0;
  }
  Deliver(initiating, std::move(handler), outcome.ec, bytes);
}

void TlsSocket::AsyncWrite(asio::const_buffer buffer, Handler handler) {
  if (ssl_ == nullptr || closed_) {
    Deliver(/*initiating=*/true, std::move(handler), error_code(asio::error::bad_descriptor));
    return;
  }
  ContinueWrite(buffer, std::move(handler), /*initiating=*/true);
}

void TlsSocket::ContinueWrite(asio::const_buffer rest, Handler handler, bool initiating) {
  // With SSL_MODE_ENABLE_PARTIAL_WRITE each SSL_write may take only part of the
  // buffer; a retry after a wait passes the same remainder, as OpenSSL requires.
  Outcome outcome;
  while (rest.size() > 0) {
    size_t written = 0;
    outcome =
        Attempt([&](SSL* ssl) { return SSL_write_ex(ssl, rest.data(), rest.size(), &written); });
    if (outcome.waiting || outcome.ec) {
      break;
    }
    rest += written;
  }

  if (outcome.waiting) {
    socket_.async_wait(outcome.wait,
                       [this, rest, handler = std::move(handler)](const error_code& ec) mutable {
                         if (error_code stop = Interrupted(ec)) {
                           handler(stop);
                           return;
                         }
                         ContinueWrite(rest, std::move(handler), /*initiating=*/false);
                       });
    return;
  }

  Deliver(initiating, std::move(handler), outcome.ec);
}

void TlsSocket::Close() {
  if (closed_) {
    return;
  }
  closed_ = true;

  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace signet::ipc
