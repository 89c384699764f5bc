// The `audit` subcommands of signetctl: `audit verify`, `audit query` and
// `audit checkpoints`, working offline on a log directory or a copy of one.
//
// AddAuditCommands registers them on a CLI11 app; signetctl and the standalone
// signet-audit tool both call it. The commands print their result on stdout and
// errors on stderr, and end with CLI::RuntimeError carrying the exit code when
// they fail (1: the log is altered; 2: it could not be read or the arguments are
// wrong), which the caller's CLI11_PARSE / app.exit turns into the process status.
//
// Thread safety: runs on the thread that parses the command line.
#pragma once

#include <iosfwd>
#include <string>

#include "signer/audit/verify.h"

namespace CLI {
class App;
}  // namespace CLI

namespace signet::tools {

// `audit verify --signetd`: the caller sends the request after parsing (signetctl only).
struct RemoteVerify {
  bool requested = false;
  std::string from_segment;
};

// Adds `audit verify [--dir DIR] [--from SEGMENT] [--key PUBKEY]`,
// `audit query [--dir DIR] [filters] [--format json|csv]` and
// `audit checkpoints [--dir DIR]` to `app`. With `remote`, `audit verify` also takes
// `--signetd`: ask the running signetd to verify its own log (filled into *remote).
void AddAuditCommands(CLI::App& app, RemoteVerify* remote = nullptr);

// Prints a verification report as `audit verify` does ("OK: ..." or "FAILED: first bad
// record ..."), noting why checkpoints went unchecked; returns the exit status (0 or 1).
int PrintVerifyReport(const audit::VerifyReport& report, const std::string& unchecked_note,
                      std::ostream& out);

}  // namespace signet::tools
