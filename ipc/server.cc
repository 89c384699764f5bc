#include "ipc/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <filesystem>
#include <optional>

#include "ipc/server_core.h"

namespace signet::ipc {

IpcMetrics::IpcMetrics(MetricsRegistry* registry) {
  if (registry == nullptr) {
    return;
  }
  read_bytes = registry->CounterFor("signet_ipc_read_bytes_total", {});
  in_flight = registry->GaugeFor("signet_ipc_requests_in_flight", {});
  writes = registry->CounterFor("signet_ipc_writes_total", {});
  frames_written = registry->CounterFor("signet_ipc_frames_written_total", {});
  for (size_t number = 1; number < operations.size(); ++number) {
    std::string_view op = OperationName(static_cast<pb::Request::OperationCase>(number));
    if (op != OperationName(pb::Request::OPERATION_NOT_SET)) {
      MetricsRegistry::Labels labels = {{"op", std::string(op)}};
      operations[number] = {registry->CounterFor("signet_ipc_requests_total", labels),
                            registry->HistogramFor("signet_ipc_request_seconds", labels)};
    }
  }
}

const IpcMetrics::Operation& IpcMetrics::For(pb::Request::OperationCase operation) const {
  auto number = static_cast<size_t>(operation);
  return operations[number < operations.size() ? number : 0];
}

Server::Core::Core(ServerOptions opts, RequestHandler& h, MetricsRegistry* m, EventHook e)
    : options(std::move(opts)),
      handler(h),
      metrics(m),
      request_metrics(m),
      hook(std::move(e)),
      tls(TlsRole::kMutualServer, options.tls) {}

void Server::Core::Report(Event::Severity severity, std::string_view kind, uint64_t connection_id,
                          std::string caller, std::string message) const {
  if (metrics != nullptr) {
    metrics->AddCounter("signet_ipc_events_total", {{"kind", std::string(kind)}});
  }
  if (hook) {
    hook(Event{severity, kind, connection_id, std::move(caller), std::move(message)});
  }
}

bool Server::Core::AdmitConnection() {
  std::lock_guard lock(mu);
  if (stopped || connections >= options.max_connections) {
    return false;
  }
  ++connections;
  return true;
}

bool Server::Core::AdmitCaller(const std::string& spiffe_id) {
  std::lock_guard lock(mu);
  size_t& count = per_caller[spiffe_id];
  if (count >= options.max_connections_per_caller) {
    return false;
  }
  ++count;
  return true;
}

void Server::Core::Release(const std::string& spiffe_id) {
  std::lock_guard lock(mu);
  --connections;
  if (!spiffe_id.empty() && --per_caller[spiffe_id] == 0) {
    per_caller.erase(spiffe_id);
  }
  if (metrics != nullptr) {
    metrics->SetGauge("signet_ipc_connections", {}, static_cast<double>(connections));
  }
}

void Server::Core::CallbackStarted() {
  std::lock_guard lock(mu);
  ++outstanding_callbacks;
}

void Server::Core::CallbackFinished() {
  std::lock_guard lock(mu);
  if (--outstanding_callbacks == 0) {
    callbacks_done.notify_all();
  }
}

void Server::Core::Accept(GenericAcceptor& acceptor, bool tcp) {
  acceptor.async_accept(asio::make_strand(io), [this, &acceptor, tcp](boost::system::error_code ec,
                                                                      GenericSocket socket) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (ec) {
      // Out of descriptors or memory: report, and pause rather than spin on the error.
      Report(Event::Severity::kWarning, kEventListenerError, 0, "", "accept: " + ec.message());
      auto pause = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      pause->async_wait([this, &acceptor, tcp, pause](const boost::system::error_code& error) {
        if (!error) {
          Accept(acceptor, tcp);
        }
      });
      return;
    }
    if (!AdmitConnection()) {
      Report(Event::Severity::kWarning, kEventConnectionLimit, 0, "",
             "refused a connection: " + std::to_string(options.max_connections) + " are open");
    } else {
      if (tcp) {
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
      }
      uint64_t id;
      {
        std::lock_guard lock(mu);
        id = next_connection_id++;
      }
      auto session = std::make_shared<ServerSession>(*this, std::move(socket), tls.current(), id);
      {
        std::lock_guard lock(mu);
        sessions[id] = session;
        if (metrics != nullptr) {
          metrics->SetGauge("signet_ipc_connections", {}, static_cast<double>(connections));
        }
      }
      session->Start();
    }
    Accept(acceptor, tcp);
  });
}

void Server::Core::PollTls() {
  reload_timer->expires_after(options.reload_poll);
  reload_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) {
      return;
    }
    auto reloaded = tls.ReloadIfChanged();
    if (!reloaded.ok()) {
      Report(Event::Severity::kWarning, kEventTlsReloadFailed, 0, "", reloaded.status().message());
    } else if (*reloaded) {
      Report(Event::Severity::kInfo, kEventTlsReloaded, 0, "", "certificate files changed");
    }
    PollTls();
  });
}

void Server::Core::StopListening() {
  boost::system::error_code ignored;
  if (tcp_acceptor) {
    tcp_acceptor->close(ignored);
  }
  if (unix_acceptor) {
    unix_acceptor->close(ignored);
    std::filesystem::remove(options.unix_path, ignored);
  }
  if (reload_timer) {
    reload_timer->cancel();
  }
}

namespace {

// `unix_mode`: the mode a Unix socket's file gets after bind, before anyone can connect.
Status Listen(GenericAcceptor& acceptor, const asio::generic::stream_protocol::endpoint& endpoint,
              const std::string& what, std::optional<uint32_t> unix_mode = std::nullopt) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && what.rfind("tcp", 0) == 0) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec && unix_mode) {
    const auto* addr = reinterpret_cast<const sockaddr_un*>(endpoint.data());
    if (::chmod(addr->sun_path, static_cast<mode_t>(*unix_mode)) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Status(Code::kUnavailable, "listening on " + what + ": " + ec.message());
  }
  return OkStatus();
}

uint16_t PortOf(const asio::generic::stream_protocol::endpoint& endpoint) {
  const sockaddr* addr = endpoint.data();
  if (addr->sa_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  }
  if (addr->sa_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  }
  return 0;
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options, RequestHandler& handler,
                                                MetricsRegistry* metrics, EventHook hook) {
  auto core = std::make_shared<Core>(std::move(options), handler, metrics, std::move(hook));
  const ServerOptions& opts = core->options;
  SIGNET_RETURN_IF_ERROR(core->tls.Reload().WithContext("loading server TLS files: "));
  if (metrics != nullptr) {
    metrics->Describe("signet_ipc_requests_total", "IPC requests answered, by operation");
    metrics->Describe("signet_ipc_errors_total",
                      "IPC errors answered: whole requests and batch items");
    metrics->Describe("signet_ipc_request_seconds", "IPC request latency, by operation");
    metrics->Describe("signet_ipc_requests_in_flight", "IPC requests with the handler");
    metrics->Describe("signet_ipc_connections", "open IPC connections");
  }

  if (!opts.tcp_address.empty()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(opts.tcp_address, ec);
    if (ec) {
      return Status(Code::kInvalidArgument,
                    "tcp_address '" + opts.tcp_address + "': " + ec.message());
    }
    core->tcp_acceptor.emplace(core->io);
    asio::ip::tcp::endpoint endpoint(address, opts.tcp_port);
    SIGNET_RETURN_IF_ERROR(Listen(*core->tcp_acceptor, endpoint,
                                  "tcp " + opts.tcp_address + ":" + std::to_string(opts.tcp_port)));
    core->bound_port = PortOf(core->tcp_acceptor->local_endpoint());
    core->Accept(*core->tcp_acceptor, true);
  }
  if (!opts.unix_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(opts.unix_path, ignored);
    core->unix_acceptor.emplace(core->io);
    asio::local::stream_protocol::endpoint endpoint(opts.unix_path);
    SIGNET_RETURN_IF_ERROR(
        Listen(*core->unix_acceptor, endpoint, "unix " + opts.unix_path, opts.unix_mode));
    core->Accept(*core->unix_acceptor, false);
  }
  if (opts.reload_poll.count() > 0) {
    core->reload_timer.emplace(core->io);
    core->PollTls();
  }

  core->work.emplace(core->io.get_executor());
  for (size_t i = 0; i < std::max<size_t>(1, opts.threads); ++i) {
    core->threads.emplace_back([io = &core->io] { io->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(core)));
}

Server::Server(std::shared_ptr<Core> core) : core_(std::move(core)) {}

Server::~Server() {
  Stop();

  {
    std::unique_lock lock(core_->mu);
    core_->callbacks_done.wait(lock, [this] { return core_->outstanding_callbacks == 0; });
  }
  core_->work.reset();
  core_->io.stop();
  for (std::thread& thread : core_->threads) {
    thread.join();
  }
  core_->StopListening();
}

uint16_t Server::tcp_port() const {
  return core_->bound_port;
}

Status Server::Reload() {
  Status status = core_->tls.Reload();
  if (status.ok()) {
    core_->Report(Event::Severity::kInfo, kEventTlsReloaded, 0, "", "reload requested");
  } else {
    core_->Report(Event::Severity::kWarning, kEventTlsReloadFailed, 0, "", status.message());
  }
  return status;
}

void Server::Stop() {
  std::vector<std::shared_ptr<ServerSession>> open;
  {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) {
      return;
    }
    core_->stopped = true;
    for (auto& [id, weak] : core_->sessions) {
      if (auto session = weak.lock()) {
        open.push_back(std::move(session));
      }
    }
  }

  Core* core = core_.get();
  asio::post(core->io, [core] { core->StopListening(); });
  for (auto& session : open) {
    // Sessions run on strands of their own sockets; Close must run there.
    ServerSession* raw = session.get();
    asio::post(raw->executor(), [session] { session->Close({}, ""); });
  }
}

size_t Server::connection_count() const {
  std::lock_guard lock(core_->mu);
  return core_->connections;
}

}  // namespace signet::ipc
