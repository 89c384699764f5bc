#include "tools/signetd/admin_handler.h"

#include "signer/policy.h"
#include "tools/custodian/admin_audit.h"

namespace signet {

void AdminHandler::Handle(const ipc::Caller& caller, ipc::pb::Request request,
                          ipc::ResponseCallback done) {
  if (!request.has_admin()) {
    inner_.Handle(caller, std::move(request), std::move(done));
    return;
  }

  AuthorizationRequest admin;
  admin.operation = Operation::kAdmin;
  Status allowed = minter_.policy()->Authorize(caller.spiffe_id, admin, SystemClock().Now());
  if (allowed.ok() && keys_ == nullptr) {
    allowed = Status(Code::kFailedPrecondition,
                     "signetd runs without a state_dir: its keys are fixed by [[key]] in its "
                     "config, and custodian commands need the key catalogue");
  }
  if (allowed.ok()) {
    keys_->RunAdmin(caller, request.admin(), std::move(done));
    return;
  }

  if (log_ != nullptr) {
    // Not a credential: the refusal is answered without waiting for its record.
    StatusOr<custodian::AdminOutcome> refused = allowed;
    for (audit::AuditRecord& record :
         custodian::AdminAuditRecords(request.admin(), caller.spiffe_id, refused)) {
      log_->Append(std::move(record), [](StatusOr<uint64_t>) {});
    }
  }
  done(ipc::ErrorResponse(allowed));
}

}  // namespace signet
