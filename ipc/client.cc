#include "ipc/client.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>

#include "ipc/client_impl.h"

namespace signet::ipc {

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
