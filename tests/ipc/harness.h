// Shared set-up for the IPC tests: a server on loopback port 0 with a TestHandler,
// a metrics registry and a recorded event log, and client options that reach it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ipc/client.h"
#include "ipc/server.h"
#include "tests/ipc/test_handler.h"
#include "tests/ipc/test_pki.h"

namespace signet::testing {

class ServerHarness {
 public:
  explicit ServerHarness(TestHandler::Options handler_options = {},
                         const std::function<void(ipc::ServerOptions&)>& adjust = {});
  ~ServerHarness();

  ipc::Server& server() { return *server_; }
  TestHandler& handler() { return handler_; }
  ipc::MetricsRegistry& metrics() { return metrics_; }
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  // Stops and destroys the server (the handler stays).
  void StopServer() { server_.reset(); }

  // True when an event of `kind` was reported.
  bool SawEvent(std::string_view kind) const;
  std::string EventLog() const;

 private:
  TestHandler handler_;
  ipc::MetricsRegistry metrics_;
  mutable std::mutex mu_;
  std::vector<ipc::Event> events_;
  std::vector<std::string> event_text_;
  std::unique_ptr<ipc::Server> server_;
  uint16_t port_ = 0;
};

ipc::ClientOptions ClientOptionsFor(std::vector<std::string> endpoints,
                                    const std::string& cert = "client");

ipc::pb::Request HealthRequest();

}  // namespace signet::testing
