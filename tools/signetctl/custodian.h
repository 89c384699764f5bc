// signetctl's custodian commands (key, deny, ca, status): building the request from the
// command line, and running it either through signetd or offline.
//
// Through signetd (the usual way while it runs): the request goes over mTLS with the
// custodian's client certificate, and signetd's policy must grant that caller "admin".
// signetd applies the change at once (the next token is signed by the new key, the next
// request for a denied identity is refused) and records it in its audit log.
//
// Offline (--daemon-config signetd.toml --state-dir DIR, with signetd stopped, e.g. for the
// CA ceremony before the first start): the same command runs here against the key catalogue
// and deny list in DIR and the devices the config names, with the PIN sources that config
// gives. Changes are recorded in the config's audit log when it has one; while signetd holds
// that log the command is refused, because a running signetd must make the change itself.
//
// Thread safety: one command per process.
#pragma once

#include <iosfwd>
#include <string>

#include "ipc/request_handler.h"
#include "signer/status.h"

namespace signet::ctl {

namespace pb = ::signet::ipc::pb;

// What an offline custodian command needs to find its state and devices.
struct CustodianEnv {
  std::string daemon_config;  // signetd.toml: backends (and their PIN sources), policy
  std::string state_dir;      // holds catalogue.json and deny_list.json
  std::string who;            // recorded as the author of every transition
  bool json = false;
  bool allow_software_ca = false;
};

// The CA ceremony's command-line arguments.
struct CaArgs {
  std::string backend;
  std::string alg = "ES256";
  std::string common_name;
  std::string organization;
  std::string trust_domain;
  std::string ttl = "8760h";
  int path_length = -1;
};

// The request for `ca init-root` or `ca issue-intermediate` (the TTL checked here).
StatusOr<pb::AdminRequest> CaRequest(pb::AdminCommand command, const CaArgs& args);

// Runs `request` offline and prints its answer (a table, or JSON with env.json).
Status RunOffline(const CustodianEnv& env, const pb::AdminRequest& request, std::ostream& out);

// Prints signetd's answer to `audit verify --signetd` as the offline command does; *verdict
// becomes that command's exit status (0, or 1 when the log is altered).
Status PrintRemoteVerify(const pb::Response& response, int* verdict, std::ostream& out);

// Prints the answer signetd sent for `request`.
Status PrintAdminResponse(const pb::AdminRequest& request, const pb::Response& response, bool json,
                          std::ostream& out);

}  // namespace signet::ctl
