// LoggingHandler: wraps a RequestHandler and logs every request it refused or failed.
//
// The inner handler (the Minter's) returns errors as values in the response; this decorator
// reads them on the way out and writes one line per failed item: caller_refused for
// permission_denied, backend_error for device and internal failures, request_failed for the
// rest. A line names the caller, the operation, the subject (or raw key) and the error; never
// a token, CSR or signature. Successful requests are not logged; they are counted instead:
// signet_credentials_total{op,kid} per item signed, signet_item_errors_total{op,code} per
// item refused or failed, and signet_backend_errors_total{op,code} for the device codes.
//
// Lifetime: the inner handler must outlive this one.
// Thread safety: as the inner handler; Handle() may be called from several threads.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "ipc/metrics.h"
#include "ipc/request_handler.h"

namespace signet {

class LoggingHandler : public ipc::RequestHandler {
 public:
  // `x509_kid` names the CA key that signs X.509-SVIDs at the time it is asked (their
  // results carry no key id), for counting them; `metrics` may be null.
  LoggingHandler(ipc::RequestHandler& inner, ipc::MetricsRegistry* metrics,
                 std::function<std::string()> x509_kid)
      : inner_(inner), metrics_(metrics), x509_kid_(std::move(x509_kid)) {}

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

 private:
  using KidCounters = std::map<std::string, ipc::MetricsRegistry::Counter, std::less<>>;

  // The signet_credentials_total series of an operation and key, found once per pair.
  ipc::MetricsRegistry::Counter CredentialsCounter(std::string_view op, const std::string& kid);

  ipc::RequestHandler& inner_;
  ipc::MetricsRegistry* const metrics_;
  const std::function<std::string()> x509_kid_;
  std::mutex mu_;
  std::map<std::string, KidCounters, std::less<>> credentials_;  // by operation, then key
};

}  // namespace signet
