// The audit records of custodian commands and key transitions.
//
// A command that changed something leaves one record per key transition ("key.prepare",
// "key.activate", "key.retire", "key.destroy", with the key id, and the author and reason
// of the transition) and one per deny-list change ("deny.add", "deny.remove", with the
// identity as subject). A change command that failed or was not allowed leaves one refused
// record named after the command ("key.destroy", "ca.init_root", ...) with the reason.
// Reads (list, show, status) leave none, unless the caller was not allowed to run them.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "signer/audit/record.h"
#include "tools/custodian/admin_service.h"

namespace signet::custodian {

audit::AuditRecord KeyTransitionAuditRecord(const KeyTransitionRecord& transition);

std::vector<audit::AuditRecord> AdminAuditRecords(const pb::AdminRequest& request,
                                                  std::string_view caller,
                                                  const StatusOr<AdminOutcome>& outcome);

}  // namespace signet::custodian
