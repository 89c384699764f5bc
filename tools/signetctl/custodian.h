// signetctl's custodian commands, run offline: directly against signetd's state
// directory (key catalogue, deny list) and the devices its config names, with the
// custodian's own PIN sources from that config.
//
//   signetctl --daemon-config signetd.toml --state-dir DIR key list|show KID
//   ... key generate --purpose P --alg A --backend NAME | rotate --purpose P
//   ... key activate KID | retire KID | destroy KID [--force] [--yes]
//   ... deny add SUBJECT [--reason TEXT] | list | remove SUBJECT
//   ... ca init-root --backend NAME [--alg A] --cn CN | issue-intermediate --backend NAME ...
//   ... status
//
// Output is a table by default and JSON with --json. Each transition is printed as
// the record an audit log entry needs.
//
// Thread safety: one command per process.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "signer/status.h"

namespace signet::ctl {

// What a custodian command needs to find its state and devices.
struct CustodianEnv {
  std::string daemon_config;  // signetd.toml: backends (and their PIN sources), policy
  std::string state_dir;      // holds catalogue.json and deny_list.json
  std::string who;            // recorded as the author of every transition
  bool json = false;
  bool allow_software_ca = false;
};

struct CaArgs {
  std::string backend;
  std::string alg = "ES256";
  std::string common_name;
  std::string organization;
  std::string trust_domain;
  std::string ttl = "8760h";
  int path_length = -1;
};

// Each runs one command, printing to `out`; the Status says why it failed.
Status KeyList(const CustodianEnv& env, std::ostream& out);
Status KeyShow(const CustodianEnv& env, const std::string& kid, std::ostream& out);
Status KeyGenerate(const CustodianEnv& env, const std::string& purpose, const std::string& alg,
                   const std::string& backend, std::ostream& out);
Status KeyRotate(const CustodianEnv& env, const std::string& purpose, std::ostream& out);
Status KeyActivate(const CustodianEnv& env, const std::string& kid, std::ostream& out);
Status KeyRetire(const CustodianEnv& env, const std::string& kid, std::ostream& out);
Status KeyDestroy(const CustodianEnv& env, const std::string& kid, bool force, std::ostream& out);
Status DenyAdd(const CustodianEnv& env, const std::string& subject, const std::string& reason,
               std::ostream& out);
Status DenyList(const CustodianEnv& env, std::ostream& out);
Status DenyRemove(const CustodianEnv& env, const std::string& subject, std::ostream& out);
Status CaInitRoot(const CustodianEnv& env, const CaArgs& args, std::ostream& out);
Status CaIssueIntermediate(const CustodianEnv& env, const CaArgs& args, std::ostream& out);
Status ShowStatus(const CustodianEnv& env, std::ostream& out);

}  // namespace signet::ctl
