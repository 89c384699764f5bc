// Daemon: signetd's running parts, wired together from a DaemonConfig.
//
// Start() opens the backends and loads the keys (KeySet), builds the Minter with the policy,
// starts the IPC server (TCP and Unix socket, mTLS) with a RequestHandler that forwards to the
// Minter, and starts the HTTPS listener that publishes JWKS, the SPIFFE bundle, metrics and
// health. Reload() re-reads the config file and swaps in new TLS material and policy; a
// config that fails to load leaves everything as it was. Stop() closes the listeners, lets
// requests in flight finish, then closes the backends.
//
// Thread safety: Start, Reload and Stop are called from the main thread only, one at a time.
#pragma once

#include <memory>
#include <string>

#include "signer/status.h"
#include "tools/signetd/backends.h"
#include "tools/signetd/config.h"

namespace signet {

class Daemon {
 public:
  Daemon();
  ~Daemon();

  Status Start(const DaemonConfig& config);
  void Reload(const std::string& config_path);
  void Stop();

 private:
  struct Parts;

  DaemonConfig config_;
  std::unique_ptr<KeySet> keys_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace signet
