// MinterHandler: the ipc::RequestHandler that answers IPC requests with the Minter.
//
// It translates each protobuf request item into a Minter request (a TTL of 0 becomes the
// configured default, capped by the caller's grant), starts every item of a batch at once,
// and answers when the last item completes; each item carries its own result or error.
// JWKS, bundle and health requests are answered from the Minter's published documents.
//
// Refusals are logged as caller_refused, device failures as backend_error, other failures as
// request_failed; the log names the caller, the operation and the subject, never a token.
//
// Lifetime: the Minter must outlive the handler, and the handler the ipc::Server.
// Thread safety: Handle() may be called from several network threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>

#include "ipc/request_handler.h"
#include "signer/minter.h"

namespace signet {

struct HandlerOptions {
  std::chrono::seconds jwt_svid_default_ttl{300};
  std::chrono::seconds access_token_default_ttl{300};
  std::chrono::seconds x509_svid_default_ttl{3600};
  size_t max_batch_items = 1024;
};

class MinterHandler : public ipc::RequestHandler {
 public:
  MinterHandler(Minter& minter, HandlerOptions options) : minter_(minter), options_(options) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

  // The policy used to cap default TTLs; the same one the Minter authorises with.
  void SetPolicy(std::shared_ptr<const Policy> policy);

 private:
  void MintJwtSvids(const ipc::Caller& caller, const ipc::pb::MintJwtSvidRequest& request,
                    ipc::ResponseCallback done);
  void MintAccessTokens(const ipc::Caller& caller, const ipc::pb::MintAccessTokenRequest& request,
                        ipc::ResponseCallback done);
  void IssueX509Svids(const ipc::Caller& caller, const ipc::pb::IssueX509SvidRequest& request,
                      ipc::ResponseCallback done);
  void SignDigests(const ipc::Caller& caller, const ipc::pb::SignDigestRequest& request,
                   ipc::ResponseCallback done);

  // The TTL to ask the Minter for: the request's, or the default capped by the grant.
  Seconds EffectiveTtl(const ipc::Caller& caller, Operation op, uint32_t requested,
                       std::chrono::seconds fallback) const;

  std::shared_ptr<const Policy> policy() const;

  Minter& minter_;
  const HandlerOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
};

// Logs a failed item: caller_refused, backend_error or request_failed by the status code.
void LogRequestFailure(const ipc::Caller& caller, Operation op, const std::string& subject,
                       const Status& status);

}  // namespace signet
