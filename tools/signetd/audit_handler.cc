#include "tools/signetd/audit_handler.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

namespace signet {
namespace {

namespace pb = ipc::pb;

int64_t SecondsUntil(int64_t expires_at) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return expires_at > now ? expires_at - now : 0;
}

audit::AuditRecord BaseRecord(const ipc::Caller& caller, std::string op, std::string subject) {
  audit::AuditRecord record;
  record.caller = caller.spiffe_id;
  record.op = std::move(op);
  record.subject = std::move(subject);
  return record;
}

// Marks a record refused when its item carries an error. Returns true when it does.
template <typename Item>
bool Refused(const Item& item, audit::AuditRecord* record) {
  if (!item.has_error()) {
    return false;
  }
  record->granted = false;
  record->reason = item.error().code() + ": " + item.error().message();
  return true;
}

// One record per item, in item order. Empty for requests that mint nothing.
std::vector<audit::AuditRecord> Records(const ipc::Caller& caller, const pb::Request& request,
                                        const pb::Response& response,
                                        const std::string& x509_ca_key) {
  std::vector<audit::AuditRecord> out;
  if (request.operation_case() == pb::Request::kMintJwtSvid && response.has_mint_jwt_svid()) {
    const auto& items = response.mint_jwt_svid().items();
    out.reserve(static_cast<size_t>(items.size()));
    for (int i = 0; i < items.size() && i < request.mint_jwt_svid().items_size(); ++i) {
      const pb::JwtSvidParams& params = request.mint_jwt_svid().items(i);
      audit::AuditRecord record = BaseRecord(caller, "jwt_svid", params.spiffe_id());
      record.audiences.assign(params.audience().begin(), params.audience().end());
      if (!Refused(items.Get(i), &record)) {
        const pb::JwtSvid& svid = items.Get(i).svid();
        record.key = svid.key_id();
        record.ttl_seconds = SecondsUntil(svid.expires_at());
        record.digest = audit::Sha256Hex(svid.token());
      }
      out.push_back(std::move(record));
    }
  } else if (request.operation_case() == pb::Request::kMintAccessToken &&
             response.has_mint_access_token()) {
    const auto& items = response.mint_access_token().items();
    out.reserve(static_cast<size_t>(items.size()));
    for (int i = 0; i < items.size() && i < request.mint_access_token().items_size(); ++i) {
      const pb::AccessTokenParams& params = request.mint_access_token().items(i);
      audit::AuditRecord record = BaseRecord(caller, "access_token", params.subject());
      record.audiences.assign(params.audience().begin(), params.audience().end());
      for (const pb::Actor& actor : params.actors()) {
        record.act.push_back(audit::Actor{actor.subject(), actor.issuer()});
      }
      if (!Refused(items.Get(i), &record)) {
        const pb::AccessToken& token = items.Get(i).token();
        record.key = token.key_id();
        record.jti = token.jti();
        record.ttl_seconds = SecondsUntil(token.expires_at());
        record.digest = audit::Sha256Hex(token.token());
      }
      out.push_back(std::move(record));
    }
  } else if (request.operation_case() == pb::Request::kIssueX509Svid &&
             response.has_issue_x509_svid()) {
    const auto& items = response.issue_x509_svid().items();
    out.reserve(static_cast<size_t>(items.size()));
    for (int i = 0; i < items.size() && i < request.issue_x509_svid().items_size(); ++i) {
      const pb::X509SvidParams& params = request.issue_x509_svid().items(i);
      audit::AuditRecord record = BaseRecord(caller, "x509_svid", params.spiffe_id());
      record.key = x509_ca_key;
      if (!Refused(items.Get(i), &record)) {
        const pb::X509Svid& svid = items.Get(i).svid();
        record.serial = svid.serial_hex();
        record.ttl_seconds = SecondsUntil(svid.expires_at());
        record.digest = audit::Sha256Hex(svid.certificate_der());
      }
      out.push_back(std::move(record));
    }
  } else if (request.operation_case() == pb::Request::kSignDigest && response.has_sign_digest()) {
    const auto& items = response.sign_digest().items();
    out.reserve(static_cast<size_t>(items.size()));
    for (int i = 0; i < items.size() && i < request.sign_digest().items_size(); ++i) {
      const pb::SignDigestParams& params = request.sign_digest().items(i);
      audit::AuditRecord record = BaseRecord(caller, "raw_sign", "");
      record.key = params.key_name();
      if (!Refused(items.Get(i), &record)) {
        record.digest = audit::Sha256Hex(items.Get(i).signature().signature());
      }
      out.push_back(std::move(record));
    }
  }
  return out;
}

// Replaces every credential in `response` with `status`, keeping refusals as they were.
template <typename Items>
void Withhold(Items* items, const Status& status) {
  for (auto& item : *items) {
    if (!item.has_error()) {
      ipc::SetError(status, item.mutable_error());
    }
  }
}

void WithholdAll(pb::Response* response, const Status& status) {
  Withhold(response->mutable_mint_jwt_svid()->mutable_items(), status);
  Withhold(response->mutable_mint_access_token()->mutable_items(), status);
  Withhold(response->mutable_issue_x509_svid()->mutable_items(), status);
  Withhold(response->mutable_sign_digest()->mutable_items(), status);
}

// Waits for every append of one response, then releases it (or withholds its credentials).
struct PendingResponse {
  pb::Response response;
  ipc::ResponseCallback done;
  std::atomic<size_t> remaining{0};
  std::atomic<bool> failed{false};
  Status failure;  // written once, by the first failed append, before its own decrement

  void Complete(StatusOr<uint64_t> appended) {
    if (!appended.ok() && !failed.exchange(true)) {
      failure = Status(Code::kUnavailable,
                       "the audit log did not record this credential, so it is withheld: " +
                           appended.status().message());
    }
    if (remaining.fetch_sub(1) != 1) {
      return;
    }
    if (failed.load()) {
      WithholdAll(&response, failure);
    }
    done(std::move(response));
  }
};

}  // namespace

void AuditingHandler::Handle(const ipc::Caller& caller, pb::Request request,
                             ipc::ResponseCallback done) {
  auto kept = std::make_shared<pb::Request>(request);
  inner_.Handle(caller, std::move(request),
                [this, caller, kept, done = std::move(done)](pb::Response response) {
                  std::vector<audit::AuditRecord> records =
                      Records(caller, *kept, response, x509_ca_key_());
                  if (records.empty()) {
                    done(std::move(response));
                    return;
                  }
                  auto pending = std::make_shared<PendingResponse>();
                  pending->response = std::move(response);
                  pending->done = done;
                  pending->remaining = records.size();
                  for (audit::AuditRecord& record : records) {
                    log_.Append(std::move(record), [pending](StatusOr<uint64_t> appended) {
                      pending->Complete(std::move(appended));
                    });
                  }
                });
}

}  // namespace signet
