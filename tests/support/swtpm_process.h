// SwtpmProcess: a real software TPM (swtpm) for one test, on loopback.
//
// Starts `swtpm socket --tpm2` on two free consecutive loopback ports (the
// command port P and the control port P+1, as the swtpm TCTI expects) with a
// fresh state directory, waits until it accepts connections, and kills it when
// the object dies. Kill() and Start() stop and start it again on the same state
// directory and ports, as a TPM restart or a crashed swtpm would.
//
// swtpm missing from PATH, or failing to start, throws std::runtime_error with
// a message saying so: the test fails, it is never skipped.
//
// Thread safety: none; one test thread drives it.
#pragma once

#include <sys/types.h>

#include <string>

#include "tests/support/openssl_cli.h"

namespace signet::testing {

class SwtpmProcess {
 public:
  struct Options {
    // Let swtpm run TPM2_Startup(CLEAR) itself. Without it, whoever connects
    // first must send TPM2_Startup, as after a real power-on.
    bool startup_clear = true;
  };

  SwtpmProcess();
  explicit SwtpmProcess(Options options);
  ~SwtpmProcess();
  SwtpmProcess(const SwtpmProcess&) = delete;
  SwtpmProcess& operator=(const SwtpmProcess&) = delete;

  // "swtpm:host=127.0.0.1,port=P", for Tss2_TctiLdr_Initialize and tpm2-tools' -T.
  std::string tcti() const;
  int port() const { return port_; }
  const std::string& state_dir() const { return state_.path(); }

  // SIGKILLs swtpm and reaps it; connections to it see a reset.
  void Kill();

  // Starts swtpm (again) on the same state directory and ports.
  void Start();

  bool running() const { return pid_ > 0; }

 private:
  bool TryStart(std::string* why);

  Options options_;
  TempDir state_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Runs a tpm2-tools command against the swtpm (`tool` is e.g. "tpm2_getcap
// properties-variable"); returns its output, throws when it fails.
std::string RunTpm2Tool(const SwtpmProcess& tpm, const std::string& tool);

}  // namespace signet::testing
