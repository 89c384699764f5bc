// RequestHandler: what the IPC server hands each decoded request to.
//
// The server decodes a REQUEST frame, identifies the caller by the SPIFFE ID in
// its client certificate, and calls Handle() on a network thread. Handle() must
// return quickly: it starts the work (authorise, build, queue a signature on a
// backend) and returns; the result is delivered later by calling `done`, from
// any thread. The server posts the response back to the connection, so a network
// thread never waits on a device.
//
// The handler knows nothing about sockets or frames, and the server knows nothing
// about minting: tools/signetd wires a handler backed by the Minter to the server.
//
// Lifetime: the handler must outlive the server. `done` must be called exactly
// once for every Handle() call; the server's destructor waits for outstanding
// callbacks, so a handler must not hold them forever. Calling `done` after the
// caller's connection closed is fine: the response is dropped.
//
// Thread safety: Handle() is called concurrently from several network threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ipc/signet.pb.h"
#include "signer/status.h"

namespace signet::ipc {

namespace pb = ::signet::ipc::v1;

// Who is asking, as established by the TLS handshake.
struct Caller {
  std::string spiffe_id;       // the one SPIFFE ID URI SAN of the client certificate
  uint64_t connection_id = 0;  // unique per server process, for logs and audit records
};

// Receives the response for one request; call exactly once, from any thread.
using ResponseCallback = std::function<void(pb::Response)>;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Starts `request` for `caller` and returns at once; `done` runs when it finishes.
  // A request that fails as a whole is answered with Response.error; an item of a
  // batch that fails is answered with that item's error.
  virtual void Handle(const Caller& caller, pb::Request request, ResponseCallback done) = 0;
};

// "mint_jwt_svid", "mint_access_token", "issue_x509_svid", "sign_digest", "get_jwks",
// "get_bundle", "health", "admin", or "unknown" when no operation is set. Used as the metrics
// label and in logs.
std::string_view OperationName(const pb::Request& request);
std::string_view OperationName(pb::Request::OperationCase operation);

// A Response carrying only `status` as its error (status must not be OK).
pb::Response ErrorResponse(const Status& status);

// Calls `visit` with every error in `response`: the request's own, or each failed item's.
void ForEachError(const pb::Response& response, const std::function<void(const pb::Error&)>& visit);

// Fills `error` from `status` with the code's wire name (signer/status.h CodeName).
void SetError(const Status& status, pb::Error* error);

// The Status an Error on the wire stands for; unknown code names become kInternal.
Status StatusFromError(const pb::Error& error);

}  // namespace signet::ipc
