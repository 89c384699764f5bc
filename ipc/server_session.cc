// One server connection: handshake, frame loop, dispatch, coalesced writes.
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include "ipc/server_core.h"

namespace signet::ipc {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

// Stop reading while this much encoded output waits for a client that does not read.
constexpr size_t kMaxPendingWriteBytes = 1024 * 1024;

}  // namespace

ServerSession::ServerSession(Server::Core& core, GenericSocket socket,
                             std::shared_ptr<SslContext> ctx, uint64_t id)
    : core_(core),
      stream_(std::move(socket), std::move(ctx)),
      timer_(stream_.get_executor()),
      id_(id) {
  caller_.connection_id = id;
}

ServerSession::~ServerSession() {
  core_.Release(admitted_caller_ ? caller_.spiffe_id : std::string());
  std::lock_guard lock(core_.mu);
  core_.sessions.erase(id_);
}

void ServerSession::Start() {
  last_activity_ = std::chrono::steady_clock::now();
  timer_.expires_after(core_.options.handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && !self->handshaken_) {
      self->Close(kEventHandshakeFailed, "handshake timed out");
    }
  });

  stream_.AsyncHandshake(
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnHandshake(ec); });
}

void ServerSession::OnHandshake(const boost::system::error_code& ec) {
  if (closed_) {
    return;
  }
  if (ec) {
    Close(kEventHandshakeFailed, "TLS handshake: " + ec.message());
    return;
  }

  auto id = SpiffeIdOf(SSL_get0_peer_certificate(stream_.native_handle()));
  if (!id.ok()) {
    Close(kEventHandshakeFailed, id.status().message());
    return;
  }
  caller_.spiffe_id = *id;
  if (!core_.AdmitCaller(caller_.spiffe_id)) {
    Close(kEventConnectionLimit, "caller already has " +
                                     std::to_string(core_.options.max_connections_per_caller) +
                                     " connections");
    return;
  }
  admitted_caller_ = true;
  handshaken_ = true;

  timer_.cancel();
  ArmTimer();
  DoRead();
}

void ServerSession::ArmTimer() {
  timer_.expires_at(last_activity_ + core_.options.idle_timeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) {
      return;
    }
    auto idle_since = std::chrono::steady_clock::now() - self->last_activity_;
    if (idle_since >= self->core_.options.idle_timeout && self->in_flight_ == 0 &&
        !self->writing_) {
      self->Close(kEventConnectionClosed, "idle timeout");
      return;
    }
    if (idle_since >= self->core_.options.idle_timeout) {
      self->last_activity_ = std::chrono::steady_clock::now();
    }
    self->ArmTimer();
  });
}

bool ServerSession::Saturated() const {
  return in_flight_ >= core_.options.max_in_flight_per_connection ||
         pending_writes_.size() + write_buffer_.size() > kMaxPendingWriteBytes;
}

void ServerSession::DoRead() {
  if (reading_ || closed_ || Saturated()) {
    return;
  }
  reading_ = true;
  std::span<uint8_t> space = decoder_.Prepare(kReadChunk);
  stream_.AsyncReadSome(asio::buffer(space.data(), space.size()),
                        [self = shared_from_this()](const boost::system::error_code& ec,
                                                    size_t bytes) { self->OnRead(ec, bytes); });
}

void ServerSession::OnRead(const boost::system::error_code& ec, size_t bytes) {
  reading_ = false;
  if (closed_) {
    return;
  }
  if (ec) {
    bool clean = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (clean && decoder_.buffered() > 0) {
      Close(kEventMalformedFrame, "connection closed inside a frame (" +
                                      std::to_string(decoder_.buffered()) + " bytes pending)");
    } else {
      Close(clean ? std::string_view() : kEventConnectionClosed, "read: " + ec.message());
    }
    return;
  }

  decoder_.Commit(bytes);
  core_.request_metrics.read_bytes.Add(static_cast<double>(bytes));
  last_activity_ = std::chrono::steady_clock::now();
  ProcessFrames();
  DoRead();
}

void ServerSession::ProcessFrames() {
  while (!closed_ && !Saturated()) {
    auto next = decoder_.Next();
    if (!next.ok()) {
      Close(kEventMalformedFrame, next.status().message());
      return;
    }
    if (!next->has_value()) {
      return;
    }
    Dispatch(**next);
  }
}

void ServerSession::Dispatch(const FrameView& frame) {
  const FrameHeader& header = frame.header;
  if (header.version != kProtocolVersion) {
    QueueError(header.request_id,
               Status(Code::kUnsupported, "protocol version " + std::to_string(header.version) +
                                              " is not supported; this server speaks version " +
                                              std::to_string(kProtocolVersion)));
    return;
  }
  if (header.type != static_cast<uint8_t>(FrameType::kRequest)) {
    QueueError(header.request_id,
               Status(Code::kInvalidArgument, "message type " + std::to_string(header.type) +
                                                  " is not a request (type 1)"));
    return;
  }

  pb::Request request;
  if (!request.ParseFromArray(frame.body.data(), static_cast<int>(frame.body.size()))) {
    Close(kEventMalformedFrame, "request " + std::to_string(header.request_id) + ": body of " +
                                    std::to_string(frame.body.size()) +
                                    " bytes is not a signet.ipc.v1.Request");
    return;
  }
  pb::Request::OperationCase operation = request.operation_case();
  if (operation == pb::Request::OPERATION_NOT_SET) {
    pb::Response response =
        ErrorResponse(Status(Code::kUnsupported, "request names no operation this server knows"));
    QueueFrame(FrameType::kResponse, header.request_id, response);
    return;
  }

  ++in_flight_;
  core_.CallbackStarted();
  core_.request_metrics.in_flight.Add(1);
  auto start = std::chrono::steady_clock::now();
  uint64_t id = header.request_id;
  auto self = shared_from_this();
  core_.handler.Handle(
      caller_, std::move(request), [self, id, operation, start](pb::Response response) {
        self->completions_queued_.fetch_add(1, std::memory_order_relaxed);
        asio::post(self->stream_.get_executor(),
                   [self, id, operation, start, response = std::move(response)]() mutable {
                     self->Complete(id, operation, start, std::move(response));
                   });
      });
}

void ServerSession::Complete(uint64_t request_id, pb::Request::OperationCase operation,
                             std::chrono::steady_clock::time_point start, pb::Response response) {
  // Responses whose completions are queued behind this one go out in the same write: the
  // last of them starts it.
  bool more_queued = completions_queued_.fetch_sub(1, std::memory_order_relaxed) > 1;
  --in_flight_;
  if (core_.metrics != nullptr) {
    const IpcMetrics& metrics = core_.request_metrics;
    const IpcMetrics::Operation& per_op = metrics.For(operation);
    metrics.in_flight.Add(-1);
    per_op.requests.Add();
    per_op.seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ForEachError(response, [&](const pb::Error& error) {
      core_.metrics->AddCounter(
          "signet_ipc_errors_total",
          {{"op", std::string(OperationName(operation))}, {"code", error.code()}});
    });
  }

  if (!closed_) {
    QueueFrame(FrameType::kResponse, request_id, response, /*write=*/!more_queued);
    ProcessFrames();
    DoRead();
  }
  core_.CallbackFinished();
}

void ServerSession::QueueFrame(FrameType type, uint64_t request_id,
                               const google::protobuf::MessageLite& body, bool write) {
  size_t size = body.ByteSizeLong();
  if (size > kMaxFrameBody) {
    pb::Response error = ErrorResponse(Status(
        Code::kInternal, "response of " + std::to_string(size) + " bytes exceeds the frame limit"));
    QueueFrame(FrameType::kResponse, request_id, error, write);
    return;
  }

  // Serialised straight into the pending writes: a separate string per response is a large
  // allocation, and large allocations make malloc consolidate its free lists every time.
  std::span<uint8_t> space = AppendFrameSpace(pending_writes_, type, request_id, size);
  body.SerializeWithCachedSizesToArray(space.data());
  ++pending_frames_;
  if (write) {
    DoWrite();
  }
}

void ServerSession::QueueError(uint64_t request_id, const Status& status) {
  pb::Error error;
  SetError(status, &error);
  QueueFrame(FrameType::kError, request_id, error);
}

void ServerSession::DoWrite() {
  if (writing_ || closed_ || pending_writes_.empty()) {
    return;
  }
  writing_ = true;
  std::swap(write_buffer_, pending_writes_);
  // Every frame ready now goes out in this one write: frames_written / writes shows how much
  // coalescing saves.
  core_.request_metrics.writes.Add();
  core_.request_metrics.frames_written.Add(static_cast<double>(pending_frames_));
  pending_frames_ = 0;
  stream_.AsyncWrite(
      asio::buffer(write_buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnWrite(ec); });
}

void ServerSession::OnWrite(const boost::system::error_code& ec) {
  writing_ = false;
  write_buffer_.clear();
  if (closed_) {
    return;
  }
  if (ec) {
    Close(kEventConnectionClosed, "write: " + ec.message());
    return;
  }
  last_activity_ = std::chrono::steady_clock::now();
  DoWrite();
  ProcessFrames();
  DoRead();
}

void ServerSession::Close(std::string_view kind, std::string reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (!kind.empty()) {
    bool warn = kind == kEventMalformedFrame || kind == kEventConnectionLimit;
    core_.Report(warn ? Event::Severity::kWarning : Event::Severity::kInfo, kind, id_,
                 caller_.spiffe_id, std::move(reason));
  }
  timer_.cancel();
  stream_.Close();
}

}  // namespace signet::ipc
