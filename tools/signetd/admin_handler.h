// AdminHandler: wraps a RequestHandler so that custodian commands (Request.admin) go to the
// KeyService, and only for callers whose policy grant includes "admin".
//
// Every other request passes to the inner handler untouched. A caller without the grant is
// answered permission_denied and the refusal is recorded in the audit log; an identity
// server's certificate can therefore never rotate a key or lift a termination. Without a
// KeyService (signetd runs on fixed [[key]] entries, no state_dir) every custodian command is
// answered failed_precondition.
//
// Lifetime: the inner handler, the Minter, the KeyService and the log must outlive this.
// Thread safety: Handle() may be called from several threads.
#pragma once

#include "ipc/request_handler.h"
#include "signer/audit/log.h"
#include "signer/minter.h"
#include "tools/signetd/key_service.h"

namespace signet {

class AdminHandler : public ipc::RequestHandler {
 public:
  // `keys` and `log` may be null.
  AdminHandler(ipc::RequestHandler& inner, const Minter& minter, KeyService* keys,
               audit::AuditLog* log)
      : inner_(inner), minter_(minter), keys_(keys), log_(log) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  ipc::RequestHandler& inner_;
  const Minter& minter_;
  KeyService* const keys_;
  audit::AuditLog* const log_;
};

}  // namespace signet
