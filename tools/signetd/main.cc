// signetd: the signing service. Reads its TOML config, opens the backends, loads the keys,
// builds the minter with the caller policy, and serves callers over mTLS (TCP and a Unix
// socket) and relying parties over HTTPS until SIGINT or SIGTERM. SIGHUP reloads the TLS
// material and the policy.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "tools/signetd/config.h"
#include "tools/signetd/daemon.h"
#include "tools/signetd/log.h"

namespace {

// Blocks the signals signetd handles in every thread started after this call, so that only
// the main thread's sigwait() sees them.
sigset_t BlockHandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using signet::logf::Field;
  using signet::logf::Level;
  namespace logf = signet::logf;

  CLI::App app{"signetd: hardware-backed credential signing service"};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "TOML config file (see docs/configuration.md)")
      ->required();
  app.add_flag("--check-config", check_only, "validate the config file and exit");
  CLI11_PARSE(app, argc, argv);

  signet::StatusOr<signet::DaemonConfig> config = signet::LoadDaemonConfig(config_path);
  if (!config.ok()) {
    std::cerr << "signetd: " << config.status().message() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": ok\n";
    return 0;
  }

  sigset_t signals = BlockHandledSignals();
  logf::InitLogging(config->log_level);
  logf::LogEvent(Level::kInfo, logf::kStart,
                 {{logf::kVersion, SIGNET_VERSION}, {logf::kConfig, config_path}});

  signet::Daemon daemon;
  signet::Status started = daemon.Start(*config);
  if (!started.ok()) {
    logf::LogEvent(Level::kError, logf::kStop,
                   {{logf::kCode, std::string(signet::CodeName(started.code()))},
                    {logf::kError, started.message()}});
    std::cerr << "signetd: " << started.message() << "\n";
    return 1;
  }

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) {
      continue;
    }
    logf::LogEvent(Level::kInfo, logf::kSignalReceived, {{logf::kSignal, strsignal(signal)}});
    if (signal == SIGHUP) {
      daemon.Reload(config_path);
      continue;
    }
    break;
  }

  daemon.Stop();
  logf::LogEvent(Level::kInfo, logf::kStop, {});
  return 0;
}
