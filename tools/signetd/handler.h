// MinterHandler: the ipc::RequestHandler that answers IPC requests with the Minter.
//
// It translates each protobuf request item into a Minter request (a TTL of 0 asks for the
// caller's granted maximum), starts every item of a batch at once, and answers when the last
// item completes; each item carries its own result or error. JWKS, bundle and health requests
// are answered from the Minter's published documents. It does not log: LoggingHandler, wrapped
// around it, does.
//
// Not yet: the audit record before the response (the Minter's AuditFields are dropped here).
//
// Lifetime: the Minter must outlive the handler, and the handler the ipc::Server.
// Thread safety: Handle() may be called from several network threads at once.
#pragma once

#include <cstddef>

#include "ipc/request_handler.h"
#include "signer/minter.h"

namespace signet {

struct HandlerOptions {
  size_t max_batch_items = 1024;
};

class MinterHandler : public ipc::RequestHandler {
 public:
  MinterHandler(Minter& minter, HandlerOptions options) : minter_(minter), options_(options) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  void MintJwtSvids(const ipc::Caller& caller, const ipc::pb::MintJwtSvidRequest& request,
                    ipc::ResponseCallback done);
  void MintAccessTokens(const ipc::Caller& caller, const ipc::pb::MintAccessTokenRequest& request,
                        ipc::ResponseCallback done);
  void IssueX509Svids(const ipc::Caller& caller, const ipc::pb::IssueX509SvidRequest& request,
                      ipc::ResponseCallback done);
  void SignDigests(const ipc::Caller& caller, const ipc::pb::SignDigestRequest& request,
                   ipc::ResponseCallback done);

  Minter& minter_;
  const HandlerOptions options_;
};

}  // namespace signet
