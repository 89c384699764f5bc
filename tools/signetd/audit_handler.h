// AuditingHandler: wraps a RequestHandler so that no credential leaves signetd before its
// audit record is durable.
//
// For every item of a mint or sign request it builds one audit record from the request and
// the inner handler's answer: caller, operation, key id, subject, audiences, the whole `act`
// chain, jti or certificate serial, TTL, whether it was granted (and why not), and a SHA-256
// digest of the credential returned (never the credential itself). It appends the records to
// the AuditLog and passes the response on only when all of them are on disk. If the log
// cannot take them, every credential item of that response is replaced by an `unavailable`
// error: a credential that was not recorded is never released.
//
// Not yet: key id of the issuing CA in X.509-SVID records (the wire response does not carry
// it; the id of the CA key active at the time is written instead).
//
// Lifetime: the inner handler and the log must outlive this handler.
// Thread safety: as the inner handler; Handle() may be called from several threads.
#pragma once

#include <functional>
#include <string>

#include "ipc/request_handler.h"
#include "signer/audit/log.h"

namespace signet {

class AuditingHandler : public ipc::RequestHandler {
 public:
  // `x509_ca_key` says which CA key id to write in X.509-SVID records, at the time of each.
  AuditingHandler(ipc::RequestHandler& inner, audit::AuditLog& log,
                  std::function<std::string()> x509_ca_key)
      : inner_(inner), log_(log), x509_ca_key_(std::move(x509_ca_key)) {}
  AuditingHandler(ipc::RequestHandler& inner, audit::AuditLog& log, std::string x509_ca_key)
      : AuditingHandler(inner, log, [kid = std::move(x509_ca_key)] { return kid; }) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  ipc::RequestHandler& inner_;
  audit::AuditLog& log_;
  const std::function<std::string()> x509_ca_key_;
};

}  // namespace signet
