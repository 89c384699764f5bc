// MinterHandler: the RequestHandler that answers IPC requests with a Minter.
//
// It translates each protobuf request into Minter calls and the Minter's results
// back into protobuf, item by item: a batch of N items starts N Minter calls at
// once, and the response goes out when the last of them completes, each item
// carrying its credential or its own error. The Minter authorises the caller
// (policy, deny list) from the SPIFFE ID the TLS layer established; nothing here
// decides who may do what.
//
// Not yet: writing the audit record before the response (the audit log is not
// built); `AuditFields` from the Minter are dropped here until it is.
//
// Lifetime: the Minter must outlive this handler, and this handler the server.
// Thread safety: Handle() may be called from any thread; it never blocks.
#pragma once

#include <functional>

#include "ipc/request_handler.h"
#include "signer/minter.h"

namespace signet::ipc {

class MinterHandler : public RequestHandler {
 public:
  struct Options {
    // Reports the service's health for the `health` operation; empty: always SERVING.
    // An error reads as NOT_SERVING for kUnavailable codes and DEGRADED for any other.
    std::function<Status()> health;
  };

  MinterHandler(Minter& minter, Options options) : minter_(minter), options_(std::move(options)) {}

  void Handle(const Caller& caller, pb::Request request, ResponseCallback done) override;

 private:
  void MintJwtSvids(const signet::Caller& caller, const pb::MintJwtSvidRequest& batch,
                    ResponseCallback done);
  void MintAccessTokens(const signet::Caller& caller, const pb::MintAccessTokenRequest& batch,
                        ResponseCallback done);
  void IssueX509Svids(const signet::Caller& caller, const pb::IssueX509SvidRequest& batch,
                      ResponseCallback done);
  void SignDigests(const signet::Caller& caller, const pb::SignDigestRequest& batch,
                   ResponseCallback done);

  Minter& minter_;
  const Options options_;
};

}  // namespace signet::ipc
