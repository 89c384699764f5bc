#include "tools/custodian/admin_audit.h"

namespace signet::custodian {
namespace {

std::string_view Verb(KeyState to) {
  switch (to) {
    case KeyState::kPrepared:
      return "key.prepare";
    case KeyState::kActive:
      return "key.activate";
    case KeyState::kRetired:
      return "key.retire";
    case KeyState::kDestroyed:
      return "key.destroy";
  }
  return "key.change";
}

}  // namespace

audit::AuditRecord KeyTransitionAuditRecord(const KeyTransitionRecord& t) {
  audit::AuditRecord record;
  record.caller = t.by;
  record.op = std::string(Verb(t.to));
  record.key = t.kid;
  std::string purpose(PurposeName(t.purpose));
  if (t.ca_role != CaRole::kNone) {
    purpose += "/" + std::string(CaRoleName(t.ca_role));
  }
  record.reason = purpose + " key " + std::string(t.from ? KeyStateName(*t.from) : "new") + " -> " +
                  std::string(KeyStateName(t.to)) + (t.reason.empty() ? "" : " (" + t.reason + ")");
  return record;
}

std::vector<audit::AuditRecord> AdminAuditRecords(const pb::AdminRequest& request,
                                                  std::string_view caller,
                                                  const StatusOr<AdminOutcome>& outcome) {
  std::vector<audit::AuditRecord> records;
  bool not_allowed = !outcome.ok() && outcome.status().code() == Code::kPermissionDenied;
  if (!IsMutation(request.command()) && !not_allowed) {
    return records;
  }
  if (!outcome.ok()) {
    audit::AuditRecord refused;
    refused.caller = std::string(caller);
    refused.op = std::string(AdminCommandName(request.command()));
    refused.key = request.key_id();
    refused.subject = request.subject();
    refused.granted = false;
    refused.reason = outcome.status().ToString();
    records.push_back(std::move(refused));
    return records;
  }
  for (const KeyTransitionRecord& t : outcome->transitions) {
    records.push_back(KeyTransitionAuditRecord(t));
  }
  if (outcome->deny_change) {
    audit::AuditRecord deny;
    deny.caller = std::string(caller);
    deny.op = outcome->deny_change->added ? "deny.add" : "deny.remove";
    deny.subject = outcome->deny_change->identity;
    deny.reason = outcome->deny_change->reason;
    records.push_back(std::move(deny));
  }
  return records;
}

}  // namespace signet::custodian
