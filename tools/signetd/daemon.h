// Daemon: signetd's running parts, wired together from a DaemonConfig.
//
// Start() opens the backends and loads the keys (KeyRing), builds the Minter with the policy,
// starts the IPC server (TCP and Unix socket, mTLS) with a MinterHandler that forwards to the
// Minter, and starts the HTTPS listener that publishes JWKS, the SPIFFE bundle, metrics and
// health. Reload() re-reads the config file, swaps in the new policy and reloads the TLS
// certificates, keys and CA bundles from their files; a config that fails to load leaves
// everything as it was. Stop() closes the listeners first, then the minter, then the
// backends, so no request is left holding a key whose backend is gone.
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
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Fails, naming what failed, when a backend, key, certificate or listener cannot be set up.
  Status Start(const DaemonConfig& config);

  // Logs config_reload on success and config_error when the new config is refused.
  void Reload(const std::string& config_path);

  void Stop();

 private:
  struct Parts;

  DaemonConfig config_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace signet
