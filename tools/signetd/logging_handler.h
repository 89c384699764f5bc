// LoggingHandler: wraps a RequestHandler and logs every request it refused or failed.
//
// The inner handler (the Minter's) returns errors as values in the response; this decorator
// reads them on the way out and writes one line per failed item: caller_refused for
// permission_denied, backend_error for device and internal failures, request_failed for the
// rest. A line names the caller, the operation, the subject (or raw key) and the error; never
// a token, CSR or signature. Successful requests are not logged (metrics count them).
//
// Lifetime: the inner handler must outlive this one.
// Thread safety: as the inner handler; Handle() may be called from several threads.
#pragma once

#include "ipc/request_handler.h"

namespace signet {

class LoggingHandler : public ipc::RequestHandler {
 public:
  explicit LoggingHandler(ipc::RequestHandler& inner) : inner_(inner) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  ipc::RequestHandler& inner_;
};

}  // namespace signet
