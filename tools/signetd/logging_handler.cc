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

template <typename Items>
void LogItems(const ipc::Caller& caller, std::string_view op,
              const std::vector<std::string>& subjects, const Items& items,
              ipc::MetricsRegistry* metrics, const std::string& x509_kid) {
  // Credentials are counted per key once for the whole batch: its items almost always share
  // one key, and each AddCounter renders its labels and takes the registry's lock.
  std::vector<std::pair<std::string, double>> issued;
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
  for (auto& [kid, count] : issued) {
    metrics->AddCounter("signet_credentials_total", {{"op", std::string(op)}, {"kid", kid}}, count);
  }
}

void LogResponse(const ipc::Caller& caller, std::string_view op,
                 const std::vector<std::string>& subjects, const pb::Response& response,
                 ipc::MetricsRegistry* metrics, const std::string& x509_kid) {
  switch (response.result_case()) {
    case pb::Response::kError: {
      bool backend =
          LogFailure(caller, op, subjects.empty() ? "" : subjects.front(), response.error());
      CountFailure(metrics, op, response.error(), backend);
      break;
    }
    case pb::Response::kMintJwtSvid:
      LogItems(caller, op, subjects, response.mint_jwt_svid().items(), metrics, x509_kid);
      break;
    case pb::Response::kMintAccessToken:
      LogItems(caller, op, subjects, response.mint_access_token().items(), metrics, x509_kid);
      break;
    case pb::Response::kIssueX509Svid:
      LogItems(caller, op, subjects, response.issue_x509_svid().items(), metrics, x509_kid);
      break;
    case pb::Response::kSignDigest:
      LogItems(caller, op, subjects, response.sign_digest().items(), metrics, x509_kid);
      break;
    default:
      break;
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
                  LogResponse(caller, op, subjects, response, metrics_, x509_kid_());
                  done(std::move(response));
                });
}

}  // namespace signet
