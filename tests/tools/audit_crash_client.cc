// A load client for the audit crash test: keeps a window of access-token requests in
// flight against signetd (pipelined on one connection) and prints the `jti` of every
// token it receives, one per line, flushed at once. It stops after `count` tokens or at
// the first failure (signetd killed under it), and exits 0 either way: the caller
// compares what it printed with what the audit log holds.
//
//   audit_crash_client CLIENT_CONFIG COUNT WINDOW
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "ipc/client.h"
#include "tools/signetctl/client_config.h"

namespace signet {
namespace {

namespace pb = ipc::pb;

pb::Request AccessTokenRequest(uint64_t n) {
  pb::Request request;
  pb::AccessTokenParams* item = request.mutable_mint_access_token()->add_items();
  item->set_subject("user:smith");
  item->add_audience("https://api.example.org");
  item->set_client_id("crash-test");
  item->set_ttl_seconds(60);
  item->add_actors()->set_subject("spiffe://example.org/agent/refunds");
  item->add_actors()->set_subject("spiffe://example.org/app/support");
  item->set_scope("n" + std::to_string(n));
  return request;
}

int Run(const std::string& config_path, uint64_t count, uint64_t window) {
  StatusOr<ClientConfig> config = LoadClientConfig(config_path);
  if (!config.ok()) {
    std::cerr << config.status() << "\n";
    return 2;
  }
  ipc::ClientOptions options;
  options.endpoints = config->endpoints;
  options.tls = ipc::TlsFiles{config->certificate, config->private_key, config->ca};
  options.server_name = config->server_name;
  options.max_attempts = 1;  // a request must not be re-sent after the kill
  auto client = ipc::Client::Create(options);
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 2;
  }

  std::mutex mu;
  std::condition_variable changed;
  uint64_t sent = 0;
  uint64_t in_flight = 0;
  uint64_t received = 0;
  bool failed = false;
  std::unique_lock<std::mutex> lock(mu);
  while (!failed && received < count) {
    changed.wait(lock, [&] { return failed || in_flight < window; });
    if (failed || sent >= count) {
      changed.wait(lock, [&] { return failed || in_flight == 0; });
      break;
    }
    ++sent;
    ++in_flight;
    lock.unlock();
    (*client)->Send(AccessTokenRequest(sent), [&](StatusOr<pb::Response> response) {
      std::lock_guard<std::mutex> guard(mu);
      --in_flight;
      bool ok = response.ok() && response->has_mint_access_token() &&
                response->mint_access_token().items_size() == 1 &&
                response->mint_access_token().items(0).has_token();
      if (ok) {
        std::printf("%s\n", response->mint_access_token().items(0).token().jti().c_str());
        std::fflush(stdout);
        ++received;
      } else {
        failed = true;
      }
      changed.notify_all();
    });
    lock.lock();
  }
  changed.wait(lock, [&] { return in_flight == 0; });
  std::cerr << "received " << received << " of " << sent << " sent\n";
  return 0;
}

}  // namespace
}  // namespace signet

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: audit_crash_client CLIENT_CONFIG COUNT WINDOW\n";
    return 2;
  }
  return signet::Run(argv[1], std::stoull(argv[2]), std::stoull(argv[3]));
}
