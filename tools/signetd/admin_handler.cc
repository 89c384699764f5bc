#include "tools/signetd/admin_handler.h"

#include <boost/json.hpp>

#include "signer/audit/verify.h"
#include "signer/policy.h"
#include "tools/custodian/admin_audit.h"
#include "tools/custodian/verify_json.h"

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
  if (allowed.ok() && request.admin().command() == ipc::pb::ADMIN_AUDIT_VERIFY) {
    VerifyAudit(request.admin().from_segment(), std::move(done));
    return;
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

void AdminHandler::VerifyAudit(const std::string& from_segment, ipc::ResponseCallback done) {
  if (log_ == nullptr) {
    done(ipc::ErrorResponse(
        Status(Code::kFailedPrecondition, "signetd keeps no audit log (audit_dir is not set)")));
    return;
  }
  keys_->Post([this, from_segment, done = std::move(done)] {
    audit::VerifyOptions options;
    options.dir = audit_dir_;
    options.from_segment = from_segment;
    options.through_seq = log_->health().head_seq;
    if (std::shared_ptr<SigningKey> key = keys_->AuditKey()) {
      options.checkpoint_keys.emplace_back(keys_->AuditKeyId(), key->public_key());
    }
    StatusOr<audit::VerifyReport> report = audit::VerifyLog(options);
    if (!report.ok()) {
      done(ipc::ErrorResponse(report.status()));
      return;
    }
    ipc::pb::Response response;
    response.mutable_admin()->set_result_json(
        boost::json::serialize(custodian::VerifyReportToJson(*report)));
    done(std::move(response));
  });
}

}  // namespace signet
