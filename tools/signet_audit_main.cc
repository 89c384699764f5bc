// signet-audit: the `audit` subcommands of signetctl as a standalone tool, for
// auditors who get a copy of the log and nothing else.
#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include "tools/signetctl/audit_commands.h"

int main(int argc, char** argv) {
  CLI::App app("signet-audit: verify and query a signet audit log");
  app.require_subcommand(1);
  signet::tools::AddAuditCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
