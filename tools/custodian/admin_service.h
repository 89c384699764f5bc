// AdminService: the custodian commands (keys, deny list, CA ceremony, status), run against a
// KeyManager and a DenyListStore.
//
// The same commands are served by signetd to callers granted "admin" over mTLS and run by
// signetctl offline against the state directory and the devices. In both cases a command is
// a pb::AdminRequest and its answer a JSON document: the one `signetctl ... --json` prints,
// which RenderAdmin (admin_render.h) turns into a table. The outcome also lists every key
// transition and deny-list change the command made, for the audit log (admin_audit.h).
//
// Documents, by command:
//   key list          {"version": N, "keys": [KEY...]}
//   key show          KEY: {"kid", "purpose", "ca_role"?, "algorithm", "backend",
//                     "backend_ref", "state", "not_after", "latest_signed_expiry", "history"}
//   key generate|rotate|activate|retire|destroy, ca init-root|issue-intermediate
//                     [TRANSITION...]: {"kid", "purpose", "from", "to", "at", "by", "reason"}
//   deny add          {"identity", "reason", "added_by", "at"}
//   deny list         [{"identity", "reason", "added_at", "added_by"}...]
//   deny remove       {"removed": IDENTITY}
//   status            {"catalogue_version", "purposes": {PURPOSE: {STATE: [KID...]}},
//                     "denied": N}
// Times are RFC 3339 UTC ("-" when unset).
//
// Lifetime: the KeyManager and the DenyListStore must outlive the service.
// Thread safety: Run may be called from any thread; the KeyManager serialises key operations
// and the DenyListStore its writes.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/request_handler.h"
#include "signer/deny_list_store.h"
#include "signer/key_manager.h"

namespace signet::custodian {

namespace pb = ::signet::ipc::pb;

// A change to the deny list, for the audit log.
struct DenyChange {
  bool added = true;  // false: removed
  std::string identity;
  std::string reason;
};

struct AdminOutcome {
  boost::json::value document;
  std::vector<KeyTransitionRecord> transitions;
  std::optional<DenyChange> deny_change;
};

// "key.list", "key.generate", "deny.add", "ca.init_root", "status", ... ("admin" when unset).
std::string_view AdminCommandName(pb::AdminCommand command);

// True for the commands that change something (and are audited); false for the reads.
bool IsMutation(pb::AdminCommand command);

class AdminService {
 public:
  AdminService(KeyManager& keys, DenyListStore& deny) : keys_(keys), deny_(deny) {}

  // Runs `request` on behalf of `who` (recorded as the author of every change). `key
  // generate` without a backend uses that of the purpose's active key. Errors keep
  // the KeyManager's codes: kNotFound for an unknown kid, kFailedPrecondition for a
  // transition the lifecycle refuses, kInvalidArgument for a malformed request.
  StatusOr<AdminOutcome> Run(const pb::AdminRequest& request, std::string_view who);

 private:
  StatusOr<AdminOutcome> RunKeyCommand(const pb::AdminRequest& request, std::string_view who);
  StatusOr<AdminOutcome> RunDenyCommand(const pb::AdminRequest& request, std::string_view who);
  StatusOr<AdminOutcome> RunCaCommand(const pb::AdminRequest& request, std::string_view who);
  AdminOutcome ShowStatus() const;

  KeyManager& keys_;
  DenyListStore& deny_;
};

}  // namespace signet::custodian
