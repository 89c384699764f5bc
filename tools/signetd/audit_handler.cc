#include "tools/signetd/audit_handler.h"

#include <algorithm>
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

// One record per item of a mint or sign request, in item order, with what the request
// says: the caller, the operation, the subject, the audiences, the act chain, a raw key's
// name. Empty for requests that mint nothing. Built before the request is handed on, so
// that the request need not be kept (copied) until its answer.
std::vector<audit::AuditRecord> Prepare(const ipc::Caller& caller, const pb::Request& request) {
  std::vector<audit::AuditRecord> out;
  switch (request.operation_case()) {
    case pb::Request::kMintJwtSvid:
      out.reserve(static_cast<size_t>(request.mint_jwt_svid().items_size()));
      for (const pb::JwtSvidParams& params : request.mint_jwt_svid().items()) {
        audit::AuditRecord record = BaseRecord(caller, "jwt_svid", params.spiffe_id());
        record.audiences.assign(params.audience().begin(), params.audience().end());
        out.push_back(std::move(record));
      }
      break;
    case pb::Request::kMintAccessToken:
      out.reserve(static_cast<size_t>(request.mint_access_token().items_size()));
      for (const pb::AccessTokenParams& params : request.mint_access_token().items()) {
        audit::AuditRecord record = BaseRecord(caller, "access_token", params.subject());
        record.audiences.assign(params.audience().begin(), params.audience().end());
        for (const pb::Actor& actor : params.actors()) {
          record.act.push_back(audit::Actor{actor.subject(), actor.issuer()});
        }
        out.push_back(std::move(record));
      }
      break;
    case pb::Request::kIssueX509Svid:
      out.reserve(static_cast<size_t>(request.issue_x509_svid().items_size()));
      for (const pb::X509SvidParams& params : request.issue_x509_svid().items()) {
        out.push_back(BaseRecord(caller, "x509_svid", params.spiffe_id()));
      }
      break;
    case pb::Request::kSignDigest:
      out.reserve(static_cast<size_t>(request.sign_digest().items_size()));
      for (const pb::SignDigestParams& params : request.sign_digest().items()) {
        audit::AuditRecord record = BaseRecord(caller, "raw_sign", "");
        record.key = params.key_name();
        out.push_back(std::move(record));
      }
      break;
    default:
      break;
  }
  return out;
}

// Adds what the answer says of each item: refused and why, or the key, the remaining
// lifetime, the jti or serial and the credential's digest. Keeps one record per answered
// item; none when the answer is not of the request's operation (a whole-request error).
template <typename Items, typename Granted>
void FillFrom(const Items& items, std::vector<audit::AuditRecord>& records, Granted granted) {
  records.resize(std::min(records.size(), static_cast<size_t>(items.size())));
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& item = items.Get(static_cast<int>(i));
    if (!Refused(item, &records[i])) {
      granted(item, records[i]);
    }
  }
}

void Fill(pb::Request::OperationCase op, std::vector<audit::AuditRecord>& records,
          const pb::Response& response, const std::string& x509_ca_key) {
  if (op == pb::Request::kMintJwtSvid && response.has_mint_jwt_svid()) {
    FillFrom(response.mint_jwt_svid().items(), records,
             [](const pb::JwtSvidResult& item, audit::AuditRecord& record) {
               record.key = item.svid().key_id();
               record.ttl_seconds = SecondsUntil(item.svid().expires_at());
               record.digest = audit::Sha256Hex(item.svid().token());
             });
  } else if (op == pb::Request::kMintAccessToken && response.has_mint_access_token()) {
    FillFrom(response.mint_access_token().items(), records,
             [](const pb::AccessTokenResult& item, audit::AuditRecord& record) {
               record.key = item.token().key_id();
               record.jti = item.token().jti();
               record.ttl_seconds = SecondsUntil(item.token().expires_at());
               record.digest = audit::Sha256Hex(item.token().token());
             });
  } else if (op == pb::Request::kIssueX509Svid && response.has_issue_x509_svid()) {
    for (audit::AuditRecord& record : records) {
      record.key = x509_ca_key;
    }
    FillFrom(response.issue_x509_svid().items(), records,
             [](const pb::X509SvidResult& item, audit::AuditRecord& record) {
               record.serial = item.svid().serial_hex();
               record.ttl_seconds = SecondsUntil(item.svid().expires_at());
               record.digest = audit::Sha256Hex(item.svid().certificate_der());
             });
  } else if (op == pb::Request::kSignDigest && response.has_sign_digest()) {
    FillFrom(response.sign_digest().items(), records,
             [](const pb::SignatureResult& item, audit::AuditRecord& record) {
               record.digest = audit::Sha256Hex(item.signature().signature());
             });
  } else {
    records.clear();
  }
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

// Withholds every credential in `response` unless the audit log recorded them.
void WithholdUnlessRecorded(const StatusOr<uint64_t>& appended, pb::Response* response) {
  if (appended.ok()) {
    return;
  }
  WithholdAll(response, Status(Code::kUnavailable,
                               "the audit log did not record this credential, so it is "
                               "withheld: " +
                                   appended.status().message()));
}

}  // namespace

void AuditingHandler::Handle(const ipc::Caller& caller, pb::Request request,
                             ipc::ResponseCallback done) {
  auto records = std::make_shared<std::vector<audit::AuditRecord>>(Prepare(caller, request));
  if (records->empty()) {
    inner_.Handle(caller, std::move(request), std::move(done));
    return;
  }
  pb::Request::OperationCase op = request.operation_case();
  inner_.Handle(caller, std::move(request),
                [this, op, records, done = std::move(done)](pb::Response response) mutable {
                  Fill(op, *records, response, x509_ca_key_());
                  if (records->empty()) {
                    done(std::move(response));
                    return;
                  }
                  log_.AppendAll(std::move(*records),
                                 [response = std::move(response),
                                  done = std::move(done)](StatusOr<uint64_t> appended) mutable {
                                   WithholdUnlessRecorded(appended, &response);
                                   done(std::move(response));
                                 });
                });
}

}  // namespace signet
