#include "tools/signetd/daemon.h"

#include "tools/signetd/log.h"

namespace signet {

// The minter, the IPC server and the HTTPS listener.
struct Daemon::Parts {};

Daemon::Daemon() = default;

Daemon::~Daemon() {
  Stop();
}

Status Daemon::Start(const DaemonConfig& config) {
  config_ = config;
  SIGNET_ASSIGN_OR_RETURN(keys_, KeySet::Open(config_));
  parts_ = std::make_unique<Parts>();
  // Not yet: the Minter (branch mint) and the IPC server and HTTPS listener (branch ipc).
  return Status(Code::kUnsupported, "signetd cannot serve yet: minter and ipc not merged");
}

void Daemon::Reload(const std::string& config_path) {
  namespace logf = signet::logf;
  StatusOr<DaemonConfig> fresh = LoadDaemonConfig(config_path);
  if (!fresh.ok()) {
    logf::LogEvent(logf::Level::kError, logf::kConfigError,
                   {{logf::kConfig, config_path}, {logf::kError, fresh.status().message()}});
    return;
  }
  logf::LogEvent(logf::Level::kInfo, logf::kConfigReload, {{logf::kConfig, config_path}});
}

void Daemon::Stop() {
  parts_.reset();
  keys_.reset();
}

}  // namespace signet
