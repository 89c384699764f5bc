// AdminHandler: wraps a RequestHandler so that custodian commands (Request.admin) go to the
// KeyService, and only for callers whose policy grant includes "admin".
//
// Every other request passes to the inner handler untouched. A caller without the grant is
// answered permission_denied and the refusal is recorded in the audit log; an identity
// server's certificate can therefore never rotate a key or lift a termination. Without a
// KeyService (signetd runs on fixed [[key]] entries, no state_dir) every custodian command is
// answered failed_precondition.
//
// `audit verify` is answered here: the log in `audit_dir` is verified on the KeyService's
// thread, up to the head at the time of asking, with the active audit key's public key.
//
// Lifetime: the inner handler, the Minter, the KeyService and the log must outlive this.
// Thread safety: Handle() may be called from several threads.
#pragma once

#include <string>

#include "ipc/request_handler.h"
#include "signer/audit/log.h"
#include "signer/minter.h"
#include "tools/signetd/key_service.h"

namespace signet {

class AdminHandler : public ipc::RequestHandler {
 public:
  // `keys` and `log` may be null; `audit_dir` is the log's directory.
  AdminHandler(ipc::RequestHandler& inner, const Minter& minter, KeyService* keys,
               audit::AuditLog* log, std::string audit_dir)
      : inner_(inner), minter_(minter), keys_(keys), log_(log), audit_dir_(std::move(audit_dir)) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  ipc::RequestHandler& inner_;
  const Minter& minter_;
  KeyService* const keys_;
  audit::AuditLog* const log_;
  const std::string audit_dir_;

  void VerifyAudit(const std::string& from_segment, ipc::ResponseCallback done);
};

}  // namespace signet
