#include "tests/ipc/harness.h"

#include <stdexcept>

namespace signet::testing {

ServerHarness::ServerHarness(TestHandler::Options handler_options,
                             const std::function<void(ipc::ServerOptions&)>& adjust)
    : handler_(handler_options) {
  ipc::ServerOptions options;
  options.tls = SharedPki().ServerFiles();
  options.threads = 2;
  options.reload_poll = std::chrono::milliseconds(0);
  if (adjust) {
    adjust(options);
  }
  auto server = ipc::Server::Start(options, handler_, &metrics_, [this](const ipc::Event& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    event_text_.push_back(std::string(e.kind) + ": " + e.message);
  });
  if (!server.ok()) {
    throw std::runtime_error("server: " + server.status().ToString());
  }
  server_ = std::move(server).value();
  port_ = server_->tcp_port();
}

ServerHarness::~ServerHarness() {
  handler_.Release();
  server_.reset();
}

bool ServerHarness::SawEvent(std::string_view kind) const {
  std::lock_guard lock(mu_);
  for (const auto& event : events_) {
    if (event.kind == kind) {
      return true;
    }
  }
  return false;
}

std::string ServerHarness::EventLog() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& line : event_text_) {
    out += line + "\n";
  }
  return out;
}

ipc::ClientOptions ClientOptionsFor(std::vector<std::string> endpoints, const std::string& cert) {
  ipc::ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.tls = SharedPki().ClientFiles(cert);
  options.server_name = "localhost";
  options.connect_timeout = std::chrono::milliseconds(2000);
  return options;
}

ipc::pb::Request HealthRequest() {
  ipc::pb::Request request;
  request.mutable_health();
  return request;
}

}  // namespace signet::testing
