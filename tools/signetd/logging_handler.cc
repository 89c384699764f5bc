#include "tools/signetd/logging_handler.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tools/signetd/log.h"

namespace signet {
namespace {

namespace pb = ipc::pb;
namespace logf = signet::logf;

// The subject of each item of a request (the raw key for signatures), by index.
std::vector<std::string> Subjects(const pb::Request& request) {
  std::vector<std::string> out;
  switch (request.operation_case()) {
    case pb::Request::kMintJwtSvid:
      for (const auto& item : request.mint_jwt_svid().items()) {
        out.push_back(item.spiffe_id());
      }
      break;
    case pb::Request::kMintAccessToken:
      for (const auto& item : request.mint_access_token().items()) {
        out.push_back(item.subject());
      }
      break;
    case pb::Request::kIssueX509Svid:
      for (const auto& item : request.issue_x509_svid().items()) {
        out.push_back(item.spiffe_id());
      }
      break;
    case pb::Request::kSignDigest:
      for (const auto& item : request.sign_digest().items()) {
        out.push_back(item.key_name());
      }
      break;
    default:
      break;
  }
  return out;
}

// Logs one failed item; true when the failure came from a device or a bug, not the request.
bool LogFailure(const ipc::Caller& caller, std::string_view op, const std::string& subject,
                const pb::Error& error) {
  Status status = ipc::StatusFromError(error);
  std::string_view event = logf::kRequestFailed;
  logf::Level level = logf::Level::kInfo;
  switch (status.code()) {
    case Code::kPermissionDenied:
      event = logf::kCallerRefused;
      level = logf::Level::kWarn;
      break;
    case Code::kDeviceError:
    case Code::kUnavailable:
    case Code::kWrongPin:
    case Code::kPinLocked:
    case Code::kInternal:
      event = logf::kBackendError;
      level = logf::Level::kError;
      break;
    default:
      break;
  }
  logf::LogEvent(level, event,
                 {{logf::kCaller, caller.spiffe_id},
                  {logf::kOperation, std::string(op)},
                  {logf::kSubject, subject},
                  {logf::kCode, error.code()},
                  {logf::kError, error.message()}});
  return event == logf::kBackendError;
}

void CountFailure(ipc::MetricsRegistry* metrics, std::string_view op, const pb::Error& error,
                  bool backend) {
  if (metrics == nullptr) {
    return;
  }
  ipc::MetricsRegistry::Labels labels = {{"op", std::string(op)}, {"code", error.code()}};
  metrics->AddCounter("signet_item_errors_total", labels);
  if (backend) {
    metrics->AddCounter("signet_backend_errors_total", labels);
  }
}

// The key that signed a successful item: the result's own key id when it has one.
std::string KeyOf(const pb::JwtSvidResult& item, const std::string&, const std::string&) {
  return item.svid().key_id();
}
std::string KeyOf(const pb::AccessTokenResult& item, const std::string&, const std::string&) {
  return item.token().key_id();
}
std::string KeyOf(const pb::X509SvidResult&, const std::string&, const std::string& x509_kid) {
  return x509_kid;
}
std::string KeyOf(const pb::SignatureResult&, const std::string& subject, const std::string&) {
  return subject;  // the raw key's name
}

// Credentials signed, by key id, in the order the keys first appear.
using Issued = std::vector<std::pair<std::string, double>>;

// Logs and counts the failed items; returns the signed ones by key. Counted per key once
// for the whole batch: its items almost always share one key.
template <typename Items>
Issued LogItems(const ipc::Caller& caller, std::string_view op,
                const std::vector<std::string>& subjects, const Items& items,
                ipc::MetricsRegistry* metrics, const std::string& x509_kid) {
  Issued issued;
  for (int i = 0; i < items.size(); ++i) {
    std::string subject = static_cast<size_t>(i) < subjects.size() ? subjects[i] : "";
    if (items.Get(i).has_error()) {
      bool backend = LogFailure(caller, op, subject, items.Get(i).error());
      CountFailure(metrics, op, items.Get(i).error(), backend);
    } else if (metrics != nullptr) {
      std::string kid = KeyOf(items.Get(i), subject, x509_kid);
      auto same = std::find_if(issued.begin(), issued.end(),
                               [&](const auto& entry) { return entry.first == kid; });
      if (same == issued.end()) {
        issued.emplace_back(std::move(kid), 1);
      } else {
        ++same->second;
      }
    }
  }
  return issued;
}

// `x509_kid` is asked for only when the response holds X.509-SVIDs.
Issued LogResponse(const ipc::Caller& caller, std::string_view op,
                   const std::vector<std::string>& subjects, const pb::Response& response,
                   ipc::MetricsRegistry* metrics, const std::function<std::string()>& x509_kid) {
  const std::string none;
  switch (response.result_case()) {
    case pb::Response::kError: {
      bool backend =
          LogFailure(caller, op, subjects.empty() ? "" : subjects.front(), response.error());
      CountFailure(metrics, op, response.error(), backend);
      return {};
    }
    case pb::Response::kMintJwtSvid:
      return LogItems(caller, op, subjects, response.mint_jwt_svid().items(), metrics, none);
    case pb::Response::kMintAccessToken:
      return LogItems(caller, op, subjects, response.mint_access_token().items(), metrics, none);
    case pb::Response::kIssueX509Svid:
      return LogItems(caller, op, subjects, response.issue_x509_svid().items(), metrics,
                      x509_kid());
    case pb::Response::kSignDigest:
      return LogItems(caller, op, subjects, response.sign_digest().items(), metrics, none);
    default:
      return {};
  }
}

}  // namespace

void LoggingHandler::Handle(const ipc::Caller& caller, pb::Request request,
                            ipc::ResponseCallback done) {
  std::string op(ipc::OperationName(request));
  std::vector<std::string> subjects = Subjects(request);
  inner_.Handle(caller, std::move(request),
                [this, caller, op = std::move(op), subjects = std::move(subjects),
                 done = std::move(done)](pb::Response response) {
                  for (const auto& [kid, count] :
                       LogResponse(caller, op, subjects, response, metrics_, x509_kid_)) {
                    CredentialsCounter(op, kid).Add(count);
                  }
                  done(std::move(response));
                });
}

ipc::MetricsRegistry::Counter LoggingHandler::CredentialsCounter(std::string_view op,
                                                                 const std::string& kid) {
  std::lock_guard lock(mu_);
  auto per_op = credentials_.find(op);
  if (per_op == credentials_.end()) {
    per_op = credentials_.emplace(std::string(op), KidCounters()).first;
  }
  auto counter = per_op->second.find(kid);
  if (counter == per_op->second.end()) {
    counter = per_op->second
                  .emplace(kid, metrics_->CounterFor("signet_credentials_total",
                                                     {{"op", std::string(op)}, {"kid", kid}}))
                  .first;
  }
  return counter->second;
}

}  // namespace signet
