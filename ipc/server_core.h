// Internal to ipc/: the state a Server shares with its connections, and one
// connection (ServerSession).
//
// Core owns the io_context, listeners, the reloading TLS context and the
// counters that enforce connection caps. Sessions point at the Core without
// owning it: the Server's destructor waits for outstanding handler callbacks and
// joins the network threads before the Core goes away, and the io_context is the
// Core's last member so that handlers still queued are destroyed first.
//
// Thread safety: Core's counters and session table are guarded by `mu`; a
// ServerSession is touched only on its strand.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ipc/frame.h"
#include "ipc/metrics.h"
#include "ipc/request_handler.h"
#include "ipc/server.h"
#include "ipc/tls_context.h"
#include "ipc/tls_socket.h"

namespace signet::ipc {

namespace asio = boost::asio;
using GenericSocket = asio::generic::stream_protocol::socket;
using GenericAcceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

class ServerSession;

// The series the server updates for every request, found once when it starts. Without a
// registry the handles are empty and ignore updates.
struct IpcMetrics {
  struct Operation {
    MetricsRegistry::Counter requests;
    MetricsRegistry::Histogram seconds;
  };

  explicit IpcMetrics(MetricsRegistry* registry);

  // Empty handles for an operation this server does not know.
  const Operation& For(pb::Request::OperationCase operation) const;

  MetricsRegistry::Counter read_bytes;
  MetricsRegistry::Gauge in_flight;
  MetricsRegistry::Counter writes;
  MetricsRegistry::Counter frames_written;
  std::array<Operation, 16> operations;  // by operation case, that is by field number
};

struct Server::Core {
  Core(ServerOptions opts, RequestHandler& h, MetricsRegistry* m, EventHook e);

  void Report(Event::Severity severity, std::string_view kind, uint64_t connection_id,
              std::string caller, std::string message) const;

  // Connection caps. AdmitConnection is called at accept, AdmitCaller after the
  // handshake; Release undoes both when the session dies.
  bool AdmitConnection();
  bool AdmitCaller(const std::string& spiffe_id);
  void Release(const std::string& spiffe_id);

  // Outstanding handler callbacks, awaited by the destructor.
  void CallbackStarted();
  void CallbackFinished();

  void Accept(GenericAcceptor& acceptor, bool tcp);
  void PollTls();
  void StopListening();

  const ServerOptions options;
  RequestHandler& handler;
  MetricsRegistry* const metrics;
  const IpcMetrics request_metrics;
  const EventHook hook;
  ReloadingTlsContext tls;

  std::mutex mu;
  std::condition_variable callbacks_done;
  size_t connections = 0;
  std::map<std::string, size_t> per_caller;
  std::map<uint64_t, std::weak_ptr<ServerSession>> sessions;
  size_t outstanding_callbacks = 0;
  uint64_t next_connection_id = 1;
  bool stopped = false;

  std::vector<std::thread> threads;
  uint16_t bound_port = 0;

  asio::io_context io;  // last: destroyed first
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<GenericAcceptor> tcp_acceptor;
  std::optional<GenericAcceptor> unix_acceptor;
  std::optional<asio::steady_timer> reload_timer;
};

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(Server::Core& core, GenericSocket socket, std::shared_ptr<SslContext> ctx,
                uint64_t id);
  ~ServerSession();

  void Start();
  void Close(std::string_view kind, std::string reason);
  uint64_t id() const { return id_; }
  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void OnHandshake(const boost::system::error_code& ec);
  void ArmTimer();
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void ProcessFrames();
  void Dispatch(const FrameView& frame);
  void Complete(uint64_t request_id, pb::Request::OperationCase operation,
                std::chrono::steady_clock::time_point start, pb::Response response);
  // Queues `body` as one frame and starts a write unless `write` is false; a response
  // over the frame limit becomes an error response.
  void QueueFrame(FrameType type, uint64_t request_id, const google::protobuf::MessageLite& body,
                  bool write = true);
  void QueueError(uint64_t request_id, const Status& status);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec);
  bool Saturated() const;

  Server::Core& core_;
  TlsSocket stream_;  // keeps the connection's TLS context alive
  asio::steady_timer timer_;
  const uint64_t id_;
  Caller caller_;
  bool handshaken_ = false;
  bool admitted_caller_ = false;
  bool closed_ = false;
  bool reading_ = false;
  bool writing_ = false;
  size_t in_flight_ = 0;
  // Completions posted to the strand and not yet run; handlers finish on backend threads.
  std::atomic<size_t> completions_queued_{0};
  FrameDecoder decoder_;
  std::string pending_writes_;
  size_t pending_frames_ = 0;
  std::string write_buffer_;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace signet::ipc
