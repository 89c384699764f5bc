#include "ipc/https_server.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "ipc/tls_context.h"

namespace signet::ipc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct HttpsServer::Impl {
  Impl(HttpsOptions opts, DocumentProvider docs, MetricsRegistry* m, EventHook h)
      : options(std::move(opts)),
        documents(std::move(docs)),
        metrics(m),
        hook(std::move(h)),
        tls(TlsRole::kServer, options.tls) {}

  void Accept();
  void PollTls();
  void Report(Event::Severity severity, std::string_view kind, std::string message) const {
    if (hook) {
      hook(Event{severity, kind, 0, "", std::move(message)});
    }
  }
  http::response<http::string_body> Route(const http::request<http::string_body>& request) const;

  const HttpsOptions options;
  const DocumentProvider documents;
  MetricsRegistry* const metrics;
  const EventHook hook;
  ReloadingTlsContext tls;
  std::atomic<size_t> connections{0};
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;

  asio::io_context io;  // destroyed before the members above
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> reload_timer;
};

namespace {

class HttpsSession : public std::enable_shared_from_this<HttpsSession> {
 public:
  HttpsSession(HttpsServer::Impl& server, asio::ip::tcp::socket socket,
               std::shared_ptr<SslContext> ctx)
      : server_(server), ctx_(std::move(ctx)), stream_(std::move(socket), *ctx_) {}

  ~HttpsSession() { server_.connections.fetch_sub(1); }

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(server_.options.timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const beast::error_code& ec) {
                              if (!ec) {
                                self->DoRead();
                              }
                            });
  }

 private:
  void DoRead() {
    request_ = {};
    beast::get_lowest_layer(stream_).expires_after(server_.options.timeout);
    http::async_read(
        stream_, buffer_, request_,
        [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(const beast::error_code& ec) {
    if (ec) {
      return;  // closed, timed out or not HTTP: the socket closes with the session
    }

    auto response = std::make_shared<http::response<http::string_body>>(server_.Route(request_));
    response->keep_alive(request_.keep_alive());
    response->prepare_payload();
    if (request_.method() == http::verb::head) {
      response->body().clear();
    }

    beast::get_lowest_layer(stream_).expires_after(server_.options.timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](const beast::error_code& ec, size_t) {
                        if (ec || response->need_eof()) {
                          return;
                        }
                        self->DoRead();
                      });
  }

  HttpsServer::Impl& server_;
  std::shared_ptr<SslContext> ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
};

http::response<http::string_body> TextResponse(http::status status, std::string_view type,
                                               std::string body) {
  http::response<http::string_body> response(status, 11);
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

}  // namespace

http::response<http::string_body> HttpsServer::Impl::Route(
    const http::request<http::string_body>& request) const {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto response = TextResponse(http::status::method_not_allowed, "text/plain", "GET only\n");
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  std::string_view target(request.target().data(), request.target().size());
  target = target.substr(0, target.find('?'));

  if (target == "/.well-known/jwks.json" && documents.jwks_json) {
    return TextResponse(http::status::ok, "application/jwk-set+json", documents.jwks_json());
  }
  if (target == "/bundle" && documents.bundle_json) {
    return TextResponse(http::status::ok, "application/json", documents.bundle_json());
  }
  if (target == "/.well-known/openid-configuration") {
    boost::json::object config;
    config["issuer"] = options.issuer;
    config["jwks_uri"] =
        options.jwks_uri.empty() ? options.issuer + "/.well-known/jwks.json" : options.jwks_uri;
    config["response_types_supported"] = boost::json::array{"id_token"};
    config["subject_types_supported"] = boost::json::array{"public"};
    config["id_token_signing_alg_values_supported"] =
        boost::json::array{"ES256", "ES384", "EdDSA", "PS256", "RS256"};
    return TextResponse(http::status::ok, "application/json", boost::json::serialize(config));
  }
  if (target == "/metrics" && metrics != nullptr) {
    return TextResponse(http::status::ok, "text/plain; version=0.0.4", metrics->RenderPrometheus());
  }
  if (target == "/healthz") {
    Status health = documents.health ? documents.health() : OkStatus();
    if (health.ok()) {
      return TextResponse(http::status::ok, "text/plain", "ok\n");
    }
    return TextResponse(http::status::service_unavailable, "text/plain", health.ToString() + "\n");
  }
  return TextResponse(http::status::not_found, "text/plain", "not found\n");
}

void HttpsServer::Impl::Accept() {
  acceptor->async_accept(
      asio::make_strand(io), [this](beast::error_code ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted) {
          return;
        }
        if (ec) {
          Report(Event::Severity::kWarning, kEventListenerError, "https accept: " + ec.message());
        } else if (connections.fetch_add(1) >= options.max_connections) {
          connections.fetch_sub(1);
          Report(Event::Severity::kWarning, kEventConnectionLimit,
                 "https: refused a connection; " + std::to_string(options.max_connections) +
                     " are open");
        } else {
          std::make_shared<HttpsSession>(*this, std::move(socket), tls.current())->Start();
        }
        Accept();
      });
}

void HttpsServer::Impl::PollTls() {
  reload_timer->expires_after(options.reload_poll);
  reload_timer->async_wait([this](const beast::error_code& ec) {
    if (ec) {
      return;
    }
    auto reloaded = tls.ReloadIfChanged();
    if (!reloaded.ok()) {
      Report(Event::Severity::kWarning, kEventTlsReloadFailed,
             "https: " + reloaded.status().message());
    } else if (*reloaded) {
      Report(Event::Severity::kInfo, kEventTlsReloaded, "https: certificate files changed");
    }
    PollTls();
  });
}

StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Start(HttpsOptions options,
                                                          DocumentProvider documents,
                                                          MetricsRegistry* metrics,
                                                          EventHook hook) {
  auto impl =
      std::make_shared<Impl>(std::move(options), std::move(documents), metrics, std::move(hook));
  SIGNET_RETURN_IF_ERROR(impl->tls.Reload().WithContext("loading HTTPS TLS files: "));

  beast::error_code ec;
  auto address = asio::ip::make_address(impl->options.address, ec);
  if (ec) {
    return Status(Code::kInvalidArgument,
                  "https address '" + impl->options.address + "': " + ec.message());
  }
  asio::ip::tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor.emplace(impl->io);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) {
    impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    impl->acceptor->bind(endpoint, ec);
  }
  if (!ec) {
    impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Status(Code::kUnavailable, "https: listening on " + impl->options.address + ":" +
                                          std::to_string(impl->options.port) + ": " + ec.message());
  }
  impl->bound_port = impl->acceptor->local_endpoint().port();
  impl->Accept();
  if (impl->options.reload_poll.count() > 0) {
    impl->reload_timer.emplace(impl->io);
    impl->PollTls();
  }

  impl->work.emplace(impl->io.get_executor());
  for (size_t i = 0; i < std::max<size_t>(1, impl->options.threads); ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::HttpsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  impl_->work.reset();
  impl_->io.stop();
  for (std::thread& thread : impl_->threads) {
    thread.join();
  }
}

uint16_t HttpsServer::port() const {
  return impl_->bound_port;
}

Status HttpsServer::Reload() {
  return impl_->tls.Reload();
}

}  // namespace signet::ipc
