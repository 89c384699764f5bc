#include "ipc/client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "ipc/frame.h"
#include "ipc/tls_context.h"

namespace signet::ipc {

namespace asio = boost::asio;
using GenericSocket = asio::generic::stream_protocol::socket;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr auto kRoundBackoff = std::chrono::milliseconds(100);

struct Endpoint {
  bool unix_socket = false;
  std::string host;  // or the socket path
  std::string port;
};

StatusOr<Endpoint> ParseEndpoint(const std::string& text) {
  Endpoint endpoint;
  if (text.rfind("unix:", 0) == 0) {
    endpoint.unix_socket = true;
    endpoint.host = text.substr(5);
    if (endpoint.host.empty()) {
      return Status(Code::kInvalidArgument, "endpoint '" + text + "' names no socket path");
    }
    return endpoint;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status(Code::kInvalidArgument,
                  "endpoint '" + text + "' is neither host:port nor unix:/path");
  }
  endpoint.host = text.substr(0, colon);
  endpoint.port = text.substr(colon + 1);
  if (endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  return endpoint;
}

}  // namespace

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

void Client::Impl::Send(pb::Request request, ClientCallback done) {
  if (closing) {
    done(Status(Code::kUnavailable, "client is closing"));
    return;
  }
  std::string body = request.SerializeAsString();
  if (body.size() > kMaxFrameBody) {
    done(Status(Code::kInvalidArgument, "request of " + std::to_string(body.size()) +
                                            " bytes exceeds the frame limit of " +
                                            std::to_string(kMaxFrameBody)));
    return;
  }

  uint64_t id = next_id++;
  Pending& entry = pending[id];
  AppendFrame(entry.frame, FrameType::kRequest, id, body);
  entry.done = std::move(done);
  if (options.request_timeout.count() > 0) {
    entry.deadline = std::chrono::steady_clock::now() + options.request_timeout;
    if (!sweeping) {
      sweeping = true;
      Sweep();
    }
  }

  if (conn && conn->ready) {
    entry.attempts += 1;
    entry.sent_on_current = true;
    conn->queued += entry.frame;
    Flush(conn);
  } else if (!conn) {
    Connect();
  }
}

void Client::Impl::Connect() {
  if (closing || conn || pending.empty()) {
    return;
  }
  const Endpoint& endpoint = endpoints[endpoint_index % endpoints.size()];
  auto c = std::make_shared<Connection>(io, *ctx);
  c->name = endpoint.unix_socket ? "unix:" + endpoint.host : endpoint.host + ":" + endpoint.port;
  conn = c;
  for (auto& [id, entry] : pending) {
    entry.sent_on_current = false;
  }

  c->timer.expires_after(options.connect_timeout);
  c->timer.async_wait([this, c](const boost::system::error_code& ec) {
    if (!ec && !c->ready) {
      Fail(c, "connect and handshake timed out");
    }
  });

  auto on_connect = [this, c](const boost::system::error_code& ec) {
    if (ec) {
      Fail(c, "connect: " + ec.message());
    } else {
      OnConnected(c);
    }
  };
  if (endpoint.unix_socket) {
    c->stream.lowest_layer().async_connect(asio::local::stream_protocol::endpoint(endpoint.host),
                                           on_connect);
    return;
  }
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io);
  resolver->async_resolve(
      endpoint.host, endpoint.port,
      [this, c, resolver, on_connect](const boost::system::error_code& ec,
                                      asio::ip::tcp::resolver::results_type results) {
        if (ec || results.empty()) {
          Fail(c, "resolve: " + (ec ? ec.message() : std::string("no addresses")));
          return;
        }
        // Not yet: trying every resolved address; the first one is used.
        c->stream.lowest_layer().async_connect(results.begin()->endpoint(), on_connect);
      });
}

void Client::Impl::OnConnected(const std::shared_ptr<Connection>& c) {
  if (c != conn) {
    return;
  }
  SSL* ssl = c->stream.native_handle();
  if (!options.server_name.empty()) {
    SSL_set_tlsext_host_name(ssl, options.server_name.c_str());
    SSL_set1_host(ssl, options.server_name.c_str());
  }
  c->stream.async_handshake(asio::ssl::stream_base::client,
                            [this, c](const boost::system::error_code& ec) {
                              if (ec) {
                                Fail(c, "TLS handshake: " + ec.message());
                                return;
                              }
                              if (c != conn) {
                                return;
                              }
                              c->ready = true;
                              c->timer.cancel();
                              failures_in_row = 0;
                              {
                                std::lock_guard lock(name_mu);
                                current_name = c->name;
                              }
                              for (auto& [id, entry] : pending) {
                                entry.attempts += 1;
                                entry.sent_on_current = true;
                                c->queued += entry.frame;
                              }
                              Flush(c);
                              Read(c);
                            });
}

void Client::Impl::Flush(const std::shared_ptr<Connection>& c) {
  if (c->write_busy || c->queued.empty() || c != conn) {
    return;
  }
  c->write_busy = true;
  std::swap(c->writing, c->queued);
  asio::async_write(c->stream, asio::buffer(c->writing),
                    [this, c](const boost::system::error_code& ec, size_t) {
                      c->write_busy = false;
                      c->writing.clear();
                      if (ec) {
                        Fail(c, "write: " + ec.message());
                        return;
                      }
                      Flush(c);
                    });
}

void Client::Impl::Read(const std::shared_ptr<Connection>& c) {
  std::span<uint8_t> space = c->decoder.Prepare(kReadChunk);
  c->stream.async_read_some(asio::buffer(space.data(), space.size()),
                            [this, c](const boost::system::error_code& ec, size_t bytes) {
                              if (ec) {
                                Fail(c, "read: " + ec.message());
                                return;
                              }
                              c->decoder.Commit(bytes);
                              while (c == conn) {
                                auto next = c->decoder.Next();
                                if (!next.ok()) {
                                  Fail(c,
                                       "server sent a malformed frame: " + next.status().message());
                                  return;
                                }
                                if (!next->has_value()) {
                                  break;
                                }
                                OnFrame(**next);
                              }
                              if (c == conn) {
                                Read(c);
                              }
                            });
}

void Client::Impl::OnFrame(const FrameView& frame) {
  auto it = pending.find(frame.header.request_id);
  if (it == pending.end()) {
    return;  // an answer to a request already answered on an earlier connection
  }
  ClientCallback done = std::move(it->second.done);
  pending.erase(it);

  if (frame.header.type == static_cast<uint8_t>(FrameType::kError)) {
    pb::Error error;
    error.ParseFromArray(frame.body.data(), static_cast<int>(frame.body.size()));
    done(StatusFromError(error));
    return;
  }
  pb::Response response;
  if (frame.header.type != static_cast<uint8_t>(FrameType::kResponse) ||
      !response.ParseFromArray(frame.body.data(), static_cast<int>(frame.body.size()))) {
    done(Status(Code::kInternal,
                "server answered request " + std::to_string(frame.header.request_id) +
                    " with an undecodable frame of type " + std::to_string(frame.header.type)));
    return;
  }
  done(std::move(response));
}

void Client::Impl::Fail(std::shared_ptr<Connection> c, const std::string& reason) {
  if (c != conn) {
    return;
  }
  boost::system::error_code ignored;
  c->timer.cancel();
  c->stream.lowest_layer().close(ignored);
  conn.reset();

  // A connection that was up is retried at the same endpoint first; one that never
  // came up moves on to the next.
  if (!c->ready) {
    endpoint_index += 1;
    failures_in_row += 1;
  }
  std::vector<ClientCallback> failed;
  for (auto it = pending.begin(); it != pending.end();) {
    Pending& entry = it->second;
    if (!entry.sent_on_current) {
      entry.attempts += 1;  // a connection attempt that carried it nowhere still counts
    }
    if (entry.attempts >= max_attempts || closing) {
      failed.push_back(std::move(entry.done));
      it = pending.erase(it);
    } else {
      ++it;
    }
  }
  for (ClientCallback& done : failed) {
    done(Status(Code::kUnavailable,
                "no signet endpoint answered; last error at " + c->name + ": " + reason));
  }

  if (closing || pending.empty()) {
    return;
  }
  if (failures_in_row > 0 && failures_in_row % endpoints.size() == 0) {
    backoff.expires_after(kRoundBackoff);
    backoff.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        Connect();
      }
    });
    return;
  }
  Connect();
}

void Client::Impl::Sweep() {
  auto tick = std::clamp(options.request_timeout / 10, std::chrono::milliseconds(10),
                         std::chrono::milliseconds(250));
  sweep.expires_after(tick);
  sweep.async_wait([this](const boost::system::error_code& ec) {
    if (ec) {
      return;
    }
    auto now = std::chrono::steady_clock::now();
    std::vector<ClientCallback> expired;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    for (ClientCallback& done : expired) {
      done(Status(Code::kUnavailable,
                  "no answer within " + std::to_string(options.request_timeout.count()) + " ms"));
    }
    sweeping = !pending.empty();
    if (sweeping) {
      Sweep();
    }
  });
}

void Client::Impl::Shutdown() {
  closing = true;
  backoff.cancel();
  sweep.cancel();
  if (conn) {
    Fail(conn, "client closed");
  }
  std::vector<ClientCallback> failed;
  for (auto& [id, entry] : pending) {
    failed.push_back(std::move(entry.done));
  }
  pending.clear();
  for (ClientCallback& done : failed) {
    done(Status(Code::kUnavailable, "client closed before the answer arrived"));
  }
}

StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.endpoints.empty()) {
    return Status(Code::kInvalidArgument, "client needs at least one endpoint");
  }
  std::vector<Endpoint> parsed;
  for (const std::string& text : options.endpoints) {
    SIGNET_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(text));
    parsed.push_back(std::move(endpoint));
  }
  SIGNET_ASSIGN_OR_RETURN(auto ctx, MakeTlsContext(TlsRole::kClient, options.tls));

  size_t attempts = options.max_attempts != 0 ? options.max_attempts : 2 * parsed.size();
  auto impl = std::make_shared<Impl>(std::move(options), std::move(parsed), std::move(ctx));
  impl->max_attempts = attempts;
  impl->work.emplace(impl->io.get_executor());
  impl->thread = std::thread([raw = impl.get()] { raw->io.run(); });
  impl->thread_id = impl->thread.get_id();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] { impl->Shutdown(); });
  impl->work.reset();
  impl->thread.join();
}

void Client::Send(pb::Request request, ClientCallback done) {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, request = std::move(request), done = std::move(done)]() mutable {
    impl->Send(std::move(request), std::move(done));
  });
}

StatusOr<pb::Response> Client::Call(pb::Request request) {
  if (std::this_thread::get_id() == impl_->thread_id) {
    return Status(Code::kFailedPrecondition,
                  "Client::Call from a client callback would wait on itself");
  }
  std::promise<StatusOr<pb::Response>> promise;
  auto answer = promise.get_future();
  Send(std::move(request),
       [&promise](StatusOr<pb::Response> result) { promise.set_value(std::move(result)); });
  return answer.get();
}

std::string Client::current_endpoint() const {
  std::lock_guard lock(impl_->name_mu);
  return impl_->current_name;
}

}  // namespace signet::ipc
