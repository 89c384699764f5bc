#include "tools/signetd/handler.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "tools/signetd/log.h"

namespace signet {
namespace {

namespace pb = ipc::pb;

// Collects the results of a batch, item by item, and finishes once the last one is in.
template <typename Result>
class Gather {
 public:
  using Finish = std::function<void(std::vector<Result>)>;

  Gather(size_t count, Finish finish) : results_(count), remaining_(count), finish_(finish) {}

  void Complete(size_t index, Result result) {
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      results_[index] = std::move(result);
      last = --remaining_ == 0;
    }
    if (last) {
      finish_(std::move(results_));
    }
  }

 private:
  std::mutex mu_;
  std::vector<Result> results_;
  size_t remaining_;
  Finish finish_;
};

Status CheckBatch(int items, size_t max_items) {
  if (items <= 0) {
    return Status(Code::kInvalidArgument, "the request has no items");
  }
  if (static_cast<size_t>(items) > max_items) {
    return Status(Code::kInvalidArgument, "the request has " + std::to_string(items) +
                                              " items; at most " + std::to_string(max_items) +
                                              " are accepted in one batch");
  }
  return OkStatus();
}

template <typename Item>
Status ItemError(const Status& status, Item* item) {
  ipc::SetError(status, item->mutable_error());
  return status;
}

signet::Caller MinterCaller(const ipc::Caller& caller) {
  return signet::Caller{caller.spiffe_id};
}

}  // namespace

void LogRequestFailure(const ipc::Caller& caller, Operation op, const std::string& subject,
                       const Status& status) {
  namespace logf = signet::logf;
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
                  {logf::kOperation, std::string(OperationName(op))},
                  {logf::kSubject, subject},
                  {logf::kCode, std::string(CodeName(status.code()))},
                  {logf::kError, status.message()}});
}

Seconds MinterHandler::EffectiveTtl(const ipc::Caller& caller, Operation op, uint32_t requested,
                                    std::chrono::seconds fallback) const {
  if (requested > 0) {
    return Seconds(requested);
  }

  std::shared_ptr<const Policy> policy = this->policy();
  if (policy == nullptr) {
    return fallback;
  }
  StatusOr<Seconds> granted = policy->MaxTtl(caller.spiffe_id, op);
  if (!granted.ok()) {
    return fallback;  // the Minter refuses the request and says why
  }
  return std::min(fallback, *granted);
}

void MinterHandler::SetPolicy(std::shared_ptr<const Policy> policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(policy);
}

std::shared_ptr<const Policy> MinterHandler::policy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

void MinterHandler::Handle(const ipc::Caller& caller, pb::Request request,
                           ipc::ResponseCallback done) {
  switch (request.operation_case()) {
    case pb::Request::kMintJwtSvid:
      return MintJwtSvids(caller, request.mint_jwt_svid(), std::move(done));
    case pb::Request::kMintAccessToken:
      return MintAccessTokens(caller, request.mint_access_token(), std::move(done));
    case pb::Request::kIssueX509Svid:
      return IssueX509Svids(caller, request.issue_x509_svid(), std::move(done));
    case pb::Request::kSignDigest:
      return SignDigests(caller, request.sign_digest(), std::move(done));
    case pb::Request::kGetJwks: {
      StatusOr<std::string> jwks = minter_.JwksJson();
      if (!jwks.ok()) {
        return done(ipc::ErrorResponse(jwks.status()));
      }
      pb::Response response;
      response.mutable_get_jwks()->set_jwks_json(*jwks);
      return done(std::move(response));
    }
    case pb::Request::kGetBundle: {
      StatusOr<std::string> bundle = minter_.SpiffeBundleJson();
      if (!bundle.ok()) {
        return done(ipc::ErrorResponse(bundle.status()));
      }
      pb::Response response;
      response.mutable_get_bundle()->set_bundle_json(*bundle);
      return done(std::move(response));
    }
    case pb::Request::kHealth: {
      pb::Response response;
      response.mutable_health()->set_status(pb::HealthResponse::SERVING);
      return done(std::move(response));
    }
    case pb::Request::OPERATION_NOT_SET:
      break;
  }
  done(ipc::ErrorResponse(Status(Code::kInvalidArgument, "the request names no operation")));
}

void MinterHandler::MintJwtSvids(const ipc::Caller& caller, const pb::MintJwtSvidRequest& request,
                                 ipc::ResponseCallback done) {
  Status batch = CheckBatch(request.items_size(), options_.max_batch_items);
  if (!batch.ok()) {
    return done(ipc::ErrorResponse(batch));
  }

  auto gather = std::make_shared<Gather<pb::JwtSvidResult>>(
      request.items_size(), [done](std::vector<pb::JwtSvidResult> results) {
        pb::Response response;
        for (pb::JwtSvidResult& result : results) {
          *response.mutable_mint_jwt_svid()->add_items() = std::move(result);
        }
        done(std::move(response));
      });

  for (int i = 0; i < request.items_size(); ++i) {
    const pb::JwtSvidParams& params = request.items(i);
    JwtSvidRequest mint;
    mint.spiffe_id = params.spiffe_id();
    mint.audiences.assign(params.audience().begin(), params.audience().end());
    mint.ttl = EffectiveTtl(caller, Operation::kJwtSvid, params.ttl_seconds(),
                            options_.jwt_svid_default_ttl);
    minter_.MintJwtSvid(
        MinterCaller(caller), std::move(mint),
        [gather, i, caller, subject = params.spiffe_id()](StatusOr<MintedToken> minted) {
          pb::JwtSvidResult result;
          if (!minted.ok()) {
            LogRequestFailure(caller, Operation::kJwtSvid, subject, minted.status());
            (void)ItemError(minted.status(), &result);
          } else {
            pb::JwtSvid* svid = result.mutable_svid();
            svid->set_token(minted->token);
            svid->set_key_id(minted->audit.kid);
            svid->set_expires_at(UnixSeconds(minted->audit.expires_at));
          }
          gather->Complete(static_cast<size_t>(i), std::move(result));
        });
  }
}

void MinterHandler::MintAccessTokens(const ipc::Caller& caller,
                                     const pb::MintAccessTokenRequest& request,
                                     ipc::ResponseCallback done) {
  Status batch = CheckBatch(request.items_size(), options_.max_batch_items);
  if (!batch.ok()) {
    return done(ipc::ErrorResponse(batch));
  }

  auto gather = std::make_shared<Gather<pb::AccessTokenResult>>(
      request.items_size(), [done](std::vector<pb::AccessTokenResult> results) {
        pb::Response response;
        for (pb::AccessTokenResult& result : results) {
          *response.mutable_mint_access_token()->add_items() = std::move(result);
        }
        done(std::move(response));
      });

  for (int i = 0; i < request.items_size(); ++i) {
    const pb::AccessTokenParams& params = request.items(i);
    AccessTokenRequest mint;
    mint.subject = params.subject();
    mint.audiences.assign(params.audience().begin(), params.audience().end());
    mint.client_id = params.client_id();
    for (const std::string& scope : params.scope()) {
      mint.scope += (mint.scope.empty() ? "" : " ") + scope;
    }
    for (const pb::Actor& actor : params.actors()) {
      // Not yet: the actor's client_id; the Minter's act objects carry sub (and iss) only.
      mint.actors.push_back(Actor{actor.subject(), ""});
    }
    mint.ttl = EffectiveTtl(caller, Operation::kAccessToken, params.ttl_seconds(),
                            options_.access_token_default_ttl);
    minter_.MintAccessToken(
        MinterCaller(caller), std::move(mint),
        [gather, i, caller, subject = params.subject()](StatusOr<MintedToken> minted) {
          pb::AccessTokenResult result;
          if (!minted.ok()) {
            LogRequestFailure(caller, Operation::kAccessToken, subject, minted.status());
            (void)ItemError(minted.status(), &result);
          } else {
            pb::AccessToken* token = result.mutable_token();
            token->set_token(minted->token);
            token->set_key_id(minted->audit.kid);
            token->set_jti(minted->audit.jti);
            token->set_expires_at(UnixSeconds(minted->audit.expires_at));
          }
          gather->Complete(static_cast<size_t>(i), std::move(result));
        });
  }
}

void MinterHandler::IssueX509Svids(const ipc::Caller& caller,
                                   const pb::IssueX509SvidRequest& request,
                                   ipc::ResponseCallback done) {
  Status batch = CheckBatch(request.items_size(), options_.max_batch_items);
  if (!batch.ok()) {
    return done(ipc::ErrorResponse(batch));
  }

  auto gather = std::make_shared<Gather<pb::X509SvidResult>>(
      request.items_size(), [done](std::vector<pb::X509SvidResult> results) {
        pb::Response response;
        for (pb::X509SvidResult& result : results) {
          *response.mutable_issue_x509_svid()->add_items() = std::move(result);
        }
        done(std::move(response));
      });

  for (int i = 0; i < request.items_size(); ++i) {
    const pb::X509SvidParams& params = request.items(i);
    X509SvidRequest mint;
    mint.spiffe_id = params.spiffe_id();
    mint.csr = params.csr_der();
    mint.ttl = EffectiveTtl(caller, Operation::kX509Svid, params.ttl_seconds(),
                            options_.x509_svid_default_ttl);
    minter_.MintX509Svid(
        MinterCaller(caller), std::move(mint),
        [gather, i, caller, subject = params.spiffe_id()](StatusOr<MintedCertificate> minted) {
          pb::X509SvidResult result;
          if (!minted.ok()) {
            LogRequestFailure(caller, Operation::kX509Svid, subject, minted.status());
            (void)ItemError(minted.status(), &result);
          } else {
            pb::X509Svid* svid = result.mutable_svid();
            svid->set_certificate_der(std::string(AsText(minted->cert_der)));
            for (const Bytes& der : minted->chain_der) {
              svid->add_chain_der(std::string(AsText(der)));
            }
            svid->set_serial_hex(minted->audit.serial_hex);
            svid->set_expires_at(UnixSeconds(minted->audit.expires_at));
          }
          gather->Complete(static_cast<size_t>(i), std::move(result));
        });
  }
}

void MinterHandler::SignDigests(const ipc::Caller& caller, const pb::SignDigestRequest& request,
                                ipc::ResponseCallback done) {
  Status batch = CheckBatch(request.items_size(), options_.max_batch_items);
  if (!batch.ok()) {
    return done(ipc::ErrorResponse(batch));
  }

  auto gather = std::make_shared<Gather<pb::SignatureResult>>(
      request.items_size(), [done](std::vector<pb::SignatureResult> results) {
        pb::Response response;
        for (pb::SignatureResult& result : results) {
          *response.mutable_sign_digest()->add_items() = std::move(result);
        }
        done(std::move(response));
      });

  for (int i = 0; i < request.items_size(); ++i) {
    const pb::SignDigestParams& params = request.items(i);
    RawSignRequest sign;
    sign.key_name = params.key_id();
    sign.digest.assign(params.digest().begin(), params.digest().end());
    sign.format = params.encoding() == pb::SIGNATURE_ENCODING_DER ? SignatureFormat::kDer
                                                                  : SignatureFormat::kRaw;
    minter_.SignRaw(MinterCaller(caller), std::move(sign),
                    [gather, i, caller, key = params.key_id()](StatusOr<RawSignature> signed_) {
                      pb::SignatureResult result;
                      if (!signed_.ok()) {
                        LogRequestFailure(caller, Operation::kRawSign, key, signed_.status());
                        (void)ItemError(signed_.status(), &result);
                      } else {
                        pb::Signature* signature = result.mutable_signature();
                        signature->set_signature(std::string(AsText(signed_->signature)));
                        signature->set_key_id(key);
                        signature->set_algorithm(std::string(AlgorithmName(signed_->algorithm)));
                      }
                      gather->Complete(static_cast<size_t>(i), std::move(result));
                    });
  }
}

}  // namespace signet
