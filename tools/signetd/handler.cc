#include "tools/signetd/handler.h"

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

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
    mint.ttl = Seconds(params.ttl_seconds());
    minter_.MintJwtSvid(MinterCaller(caller), std::move(mint),
                        [gather, i](StatusOr<MintedToken> minted) {
                          pb::JwtSvidResult result;
                          if (!minted.ok()) {
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
    mint.scope = params.scope();
    for (const pb::Actor& actor : params.actors()) {
      mint.actors.push_back(Actor{actor.subject(), actor.issuer()});
    }
    mint.ttl = Seconds(params.ttl_seconds());
    minter_.MintAccessToken(MinterCaller(caller), std::move(mint),
                            [gather, i](StatusOr<MintedToken> minted) {
                              pb::AccessTokenResult result;
                              if (!minted.ok()) {
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
    mint.csr = params.csr();
    mint.ttl = Seconds(params.ttl_seconds());
    minter_.MintX509Svid(MinterCaller(caller), std::move(mint),
                         [gather, i](StatusOr<MintedCertificate> minted) {
                           pb::X509SvidResult result;
                           if (!minted.ok()) {
                             (void)ItemError(minted.status(), &result);
                           } else {
                             pb::X509Svid* svid = result.mutable_svid();
                             svid->set_certificate_der(std::string(AsText(minted->cert_der)));
                             for (const Bytes& der : minted->chain_der) {
                               svid->add_chain_der(std::string(AsText(der)));
                             }
                             svid->set_serial_hex(minted->audit.serial_hex);
                             svid->set_pem(minted->pem);
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
    sign.key_name = params.key_name();
    sign.digest.assign(params.digest().begin(), params.digest().end());
    sign.format = params.encoding() == pb::SIGNATURE_ENCODING_DER ? SignatureFormat::kDer
                                                                  : SignatureFormat::kRaw;
    minter_.SignRaw(MinterCaller(caller), std::move(sign),
                    [gather, i, key = params.key_name()](StatusOr<RawSignature> signed_) {
                      pb::SignatureResult result;
                      if (!signed_.ok()) {
                        (void)ItemError(signed_.status(), &result);
                      } else {
                        pb::Signature* signature = result.mutable_signature();
                        signature->set_signature(std::string(AsText(signed_->signature)));
                        signature->set_key_name(key);
                        signature->set_algorithm(std::string(AlgorithmName(signed_->algorithm)));
                      }
                      gather->Complete(static_cast<size_t>(i), std::move(result));
                    });
  }
}

}  // namespace signet
