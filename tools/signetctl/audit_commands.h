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

namespace CLI {
class App;
}  // namespace CLI

namespace signet::tools {

// Adds `audit verify [--dir DIR] [--from SEGMENT] [--key PUBKEY]`,
// `audit query [--dir DIR] [filters] [--format json|csv]` and
// `audit checkpoints [--dir DIR]` to `app`.
void AddAuditCommands(CLI::App& app);

}  // namespace signet::tools
