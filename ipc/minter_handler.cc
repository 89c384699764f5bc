#include "ipc/minter_handler.h"

#include <memory>
#include <mutex>

namespace signet::ipc {
namespace {

// Collects the answers to one batch; the last item to finish sends the response.
// Items finish on backend threads, in any order.
class BatchReply {
 public:
  BatchReply(pb::Response response, size_t items, ResponseCallback done)
      : response_(std::move(response)), remaining_(items), done_(std::move(done)) {}

  // Runs `fill` on the response under the lock; sends it when every item is in.
  template <typename Fill>
  void Complete(Fill fill) {
    std::unique_lock lock(mu_);
    fill(response_);
    if (--remaining_ > 0) {
      return;
    }
    lock.unlock();
    done_(std::move(response_));
  }

 private:
  std::mutex mu_;
  pb::Response response_;
  size_t remaining_;
  ResponseCallback done_;
};

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

std::string ToString(const Bytes& bytes) {
  return {bytes.begin(), bytes.end()};
}

Status EmptyBatch(std::string_view op) {
  return Status(Code::kInvalidArgument, std::string(op) + " request has no items");
}

}  // namespace

void MinterHandler::Handle(const Caller& caller, pb::Request request, ResponseCallback done) {
  signet::Caller who{caller.spiffe_id};
  pb::Response response;
  switch (request.operation_case()) {
    case pb::Request::kMintJwtSvid:
      MintJwtSvids(who, request.mint_jwt_svid(), std::move(done));
      return;
    case pb::Request::kMintAccessToken:
      MintAccessTokens(who, request.mint_access_token(), std::move(done));
      return;
    case pb::Request::kIssueX509Svid:
      IssueX509Svids(who, request.issue_x509_svid(), std::move(done));
      return;
    case pb::Request::kSignDigest:
      SignDigests(who, request.sign_digest(), std::move(done));
      return;
    case pb::Request::kGetJwks: {
      auto jwks = minter_.JwksJson();
      if (!jwks.ok()) {
        done(ErrorResponse(jwks.status()));
        return;
      }
      response.mutable_get_jwks()->set_jwks_json(*jwks);
      break;
    }
    case pb::Request::kGetBundle: {
      auto bundle = minter_.SpiffeBundleJson();
      if (!bundle.ok()) {
        done(ErrorResponse(bundle.status()));
        return;
      }
      response.mutable_get_bundle()->set_bundle_json(*bundle);
      break;
    }
    case pb::Request::kHealth: {
      Status health = options_.health ? options_.health() : OkStatus();
      auto* answer = response.mutable_health();
      answer->set_status(health.ok()                           ? pb::HealthResponse::SERVING
                         : health.code() == Code::kUnavailable ? pb::HealthResponse::NOT_SERVING
                                                               : pb::HealthResponse::DEGRADED);
      answer->set_detail(health.ok() ? "" : health.ToString());
      break;
    }
    case pb::Request::kAdmin:
      // Custodian commands are run by a handler in front of this one (signetd's).
      response = ErrorResponse(
          Status(Code::kUnsupported, "this server does not run custodian (admin) commands"));
      break;
    case pb::Request::OPERATION_NOT_SET:
      response = ErrorResponse(Status(Code::kUnsupported, "request names no known operation"));
      break;
  }
  done(std::move(response));
}

void MinterHandler::MintJwtSvids(const signet::Caller& caller, const pb::MintJwtSvidRequest& batch,
                                 ResponseCallback done) {
  if (batch.items().empty()) {
    done(ErrorResponse(EmptyBatch("mint_jwt_svid")));
    return;
  }
  pb::Response response;
  for (int i = 0; i < batch.items_size(); ++i) {
    response.mutable_mint_jwt_svid()->add_items();
  }
  auto reply =
      std::make_shared<BatchReply>(std::move(response), batch.items_size(), std::move(done));
  for (int i = 0; i < batch.items_size(); ++i) {
    const pb::JwtSvidParams& item = batch.items(i);
    JwtSvidRequest request{item.spiffe_id(), Strings(item.audience()), Seconds(item.ttl_seconds())};
    minter_.MintJwtSvid(caller, std::move(request), [reply, i](StatusOr<MintedToken> minted) {
      reply->Complete([&](pb::Response& response) {
        pb::JwtSvidResult* result = response.mutable_mint_jwt_svid()->mutable_items(i);
        if (!minted.ok()) {
          SetError(minted.status(), result->mutable_error());
          return;
        }
        pb::JwtSvid* svid = result->mutable_svid();
        svid->set_token(minted->token);
        svid->set_key_id(minted->audit.kid);
        svid->set_expires_at(UnixSeconds(minted->audit.expires_at));
      });
    });
  }
}

void MinterHandler::MintAccessTokens(const signet::Caller& caller,
                                     const pb::MintAccessTokenRequest& batch,
                                     ResponseCallback done) {
  if (batch.items().empty()) {
    done(ErrorResponse(EmptyBatch("mint_access_token")));
    return;
  }
  pb::Response response;
  for (int i = 0; i < batch.items_size(); ++i) {
    response.mutable_mint_access_token()->add_items();
  }
  auto reply =
      std::make_shared<BatchReply>(std::move(response), batch.items_size(), std::move(done));
  for (int i = 0; i < batch.items_size(); ++i) {
    const pb::AccessTokenParams& item = batch.items(i);
    AccessTokenRequest request;
    request.subject = item.subject();
    request.audiences = Strings(item.audience());
    request.client_id = item.client_id();
    for (const pb::Actor& actor : item.actors()) {
      request.actors.push_back(Actor{actor.subject(), actor.issuer()});
    }
    request.scope = item.scope();
    request.ttl = Seconds(item.ttl_seconds());
    minter_.MintAccessToken(caller, std::move(request), [reply, i](StatusOr<MintedToken> minted) {
      reply->Complete([&](pb::Response& response) {
        pb::AccessTokenResult* result = response.mutable_mint_access_token()->mutable_items(i);
        if (!minted.ok()) {
          SetError(minted.status(), result->mutable_error());
          return;
        }
        pb::AccessToken* token = result->mutable_token();
        token->set_token(minted->token);
        token->set_key_id(minted->audit.kid);
        token->set_jti(minted->audit.jti);
        token->set_expires_at(UnixSeconds(minted->audit.expires_at));
      });
    });
  }
}

void MinterHandler::IssueX509Svids(const signet::Caller& caller,
                                   const pb::IssueX509SvidRequest& batch, ResponseCallback done) {
  if (batch.items().empty()) {
    done(ErrorResponse(EmptyBatch("issue_x509_svid")));
    return;
  }
  pb::Response response;
  for (int i = 0; i < batch.items_size(); ++i) {
    response.mutable_issue_x509_svid()->add_items();
  }
  auto reply =
      std::make_shared<BatchReply>(std::move(response), batch.items_size(), std::move(done));
  for (int i = 0; i < batch.items_size(); ++i) {
    const pb::X509SvidParams& item = batch.items(i);
    X509SvidRequest request{item.spiffe_id(), item.csr(), Seconds(item.ttl_seconds())};
    minter_.MintX509Svid(
        caller, std::move(request), [reply, i](StatusOr<MintedCertificate> minted) {
          reply->Complete([&](pb::Response& response) {
            pb::X509SvidResult* result = response.mutable_issue_x509_svid()->mutable_items(i);
            if (!minted.ok()) {
              SetError(minted.status(), result->mutable_error());
              return;
            }
            pb::X509Svid* svid = result->mutable_svid();
            svid->set_certificate_der(ToString(minted->cert_der));
            for (const Bytes& der : minted->chain_der) {
              svid->add_chain_der(ToString(der));
            }
            svid->set_serial_hex(minted->audit.serial_hex);
            svid->set_expires_at(UnixSeconds(minted->audit.expires_at));
            svid->set_pem(minted->pem);
          });
        });
  }
}

void MinterHandler::SignDigests(const signet::Caller& caller, const pb::SignDigestRequest& batch,
                                ResponseCallback done) {
  if (batch.items().empty()) {
    done(ErrorResponse(EmptyBatch("sign_digest")));
    return;
  }
  pb::Response response;
  for (int i = 0; i < batch.items_size(); ++i) {
    response.mutable_sign_digest()->add_items();
  }
  auto reply =
      std::make_shared<BatchReply>(std::move(response), batch.items_size(), std::move(done));
  for (int i = 0; i < batch.items_size(); ++i) {
    const pb::SignDigestParams& item = batch.items(i);
    RawSignRequest request;
    request.key_name = item.key_name();
    request.digest.assign(item.digest().begin(), item.digest().end());
    request.format = item.encoding() == pb::SIGNATURE_ENCODING_RAW ? SignatureFormat::kRaw
                                                                   : SignatureFormat::kDer;
    std::string key_name = item.key_name();
    minter_.SignRaw(
        caller, std::move(request), [reply, i, key_name](StatusOr<RawSignature> signed_digest) {
          reply->Complete([&](pb::Response& response) {
            pb::SignatureResult* result = response.mutable_sign_digest()->mutable_items(i);
            if (!signed_digest.ok()) {
              SetError(signed_digest.status(), result->mutable_error());
              return;
            }
            pb::Signature* signature = result->mutable_signature();
            signature->set_signature(ToString(signed_digest->signature));
            signature->set_key_name(key_name);
            signature->set_algorithm(std::string(AlgorithmName(signed_digest->algorithm)));
          });
        });
  }
}

}  // namespace signet::ipc
