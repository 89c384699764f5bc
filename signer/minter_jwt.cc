// The two JWT profiles: JWT-SVID and RFC 9068 access tokens.
#include <boost/json/monotonic_resource.hpp>

#include "signer/jwt.h"
#include "signer/jwt_claims.h"
#include "signer/minter.h"
#include "signer/minter_internal.h"
#include "signer/signature.h"

namespace signet {
namespace {

using minter_internal::CheckNotDenied;

// Everything a token needs between authorisation and release.
struct PendingJwt {
  Caller caller;
  JwtKey key;
  std::shared_ptr<const Policy> policy;
  std::shared_ptr<const minter_internal::CheckMap> checks;
  AuthorizationRequest authorized;
  TimePoint now{};
  // The header and claims are built in this buffer (a token that outgrows it spills to the
  // heap) instead of in a dozen separate allocations. Declared first, it outlives them.
  unsigned char json_buffer[2048];
  boost::json::monotonic_resource json_memory{json_buffer, sizeof(json_buffer)};
  boost::json::object header{&json_memory};
  boost::json::object claims{&json_memory};
  std::string signing_input;
  AuditFields audit;
};

Status CheckAudiences(const std::vector<std::string>& audiences) {
  if (audiences.empty()) {
    return Status(Code::kInvalidArgument, "at least one audience is required");
  }
  for (const std::string& aud : audiences) {
    if (aud.empty()) {
      return Status(Code::kInvalidArgument, "an audience is empty");
    }
  }
  return OkStatus();
}

// RFC 6749 section 3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E, one space apart.
Status CheckScope(const std::string& scope) {
  bool after_space = true;
  for (char c : scope) {
    if (c == ' ') {
      if (after_space) {
        return Status(Code::kInvalidArgument, "scope '" + scope + "' has an empty scope-token");
      }
      after_space = true;
      continue;
    }
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
      return Status(Code::kInvalidArgument, "scope '" + scope + "' holds a forbidden character");
    }
    after_space = false;
  }
  if (!scope.empty() && after_space) {
    return Status(Code::kInvalidArgument, "scope '" + scope + "' ends with a space");
  }
  return OkStatus();
}

void SetHeader(boost::json::object& header, const JwtKey& key, const char* typ) {
  header["alg"] = AlgorithmName(key.key->algorithm());
  header["kid"] = key.kid;
  header["typ"] = typ;
}

// Reads the finished token back and checks that it says what was authorised. Called once
// per token, as its last use of `p`: the audit fields move into the result.
StatusOr<MintedToken> Finish(PendingJwt& p, StatusOr<Bytes> signature) {
  if (!signature.ok()) {
    return signature.status().WithContext("signing with key '" + p.key.kid + "': ");
  }
  if (!p.key.backend_verifies) {
    SignRequest signed_input{Bytes(p.signing_input.begin(), p.signing_input.end()), false,
                             SignatureFormat::kRaw};
    SIGNET_RETURN_IF_ERROR(
        minter_internal::CheckWith(*p.checks, *p.key.key, signed_input, *signature));
  }
  std::string token = JwtCompact(p.signing_input, *signature);

  // The decoded objects die with this call: parse them into a buffer on the stack rather
  // than a dozen heap allocations per token.
  unsigned char scratch_buffer[4096];
  boost::json::monotonic_resource scratch(scratch_buffer, sizeof(scratch_buffer));
  SIGNET_ASSIGN_OR_RETURN(DecodedJwt decoded, DecodeJwt(token, &scratch));
  if (decoded.header != p.header || decoded.claims != p.claims ||
      decoded.signing_input != p.signing_input || decoded.signature != *signature) {
    return Status(Code::kInternal, "minted JWT does not decode to what was built");
  }
  SIGNET_ASSIGN_OR_RETURN(ReadClaims read, ReadBackClaims(decoded.claims));
  AuthorizationRequest reread{p.authorized.operation,       read.sub, read.audiences, {},
                              Seconds(read.exp - read.iat), ""};
  for (const Actor& actor : read.actors) {
    reread.actors.push_back(actor.sub);
  }
  if (read.iat != UnixSeconds(p.now) || reread.actors != p.authorized.actors) {
    return Status(Code::kInternal, "minted JWT claims differ from the request");
  }
  Status allowed = p.policy->Authorize(p.caller.spiffe_id, reread, p.now);
  if (!allowed.ok()) {
    return Status(Code::kInternal, "minted JWT fails the policy re-check: " + allowed.message());
  }
  return MintedToken{std::move(token), std::move(p.audit)};
}

void SignAndFinish(std::shared_ptr<PendingJwt> pending, MintCallback<MintedToken> done) {
  SigningKey& key = *pending->key.key;
  Bytes input(pending->signing_input.begin(), pending->signing_input.end());
  key.Sign(SignRequest{std::move(input), false, SignatureFormat::kRaw},
           [pending, done = std::move(done)](StatusOr<Bytes> signature) {
             done(Finish(*pending, std::move(signature)));
           });
}

}  // namespace

void Minter::MintJwtSvid(const Caller& caller, JwtSvidRequest request,
                         MintCallback<MintedToken> done) {
  done = minter_internal::ReportIssued<MintedToken>(options_.on_issued, std::move(done));
  auto pending = std::make_shared<PendingJwt>();
  auto prepare = [&]() -> Status {
    SIGNET_RETURN_IF_ERROR(minter_internal::CheckSpiffeSubject(
        request.spiffe_id, options_.trust_domain, "JWT-SVID subject"));
    SIGNET_RETURN_IF_ERROR(CheckAudiences(request.audiences));
    pending->policy = policy();
    SIGNET_ASSIGN_OR_RETURN(Seconds ttl,
                            minter_internal::ResolveTtl(*pending->policy, caller.spiffe_id,
                                                        Operation::kJwtSvid, request.ttl));
    pending->now = std::chrono::floor<Seconds>(clock_->Now());
    pending->authorized = {Operation::kJwtSvid, request.spiffe_id, request.audiences, {}, ttl, ""};
    SIGNET_RETURN_IF_ERROR(
        pending->policy->Authorize(caller.spiffe_id, pending->authorized, pending->now));
    SIGNET_RETURN_IF_ERROR(CheckNotDenied(*deny_list_, request.spiffe_id, "subject"));

    std::shared_ptr<const KeySet> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      keys = keys_;
      pending->checks = state_->checks;
    }
    if (!keys->jwt_svid) {
      return Status(Code::kFailedPrecondition, "no JWT-SVID signing key is configured");
    }
    if (keys->jwt_svid->key->algorithm() == Algorithm::kEdDSA) {
      return Status(Code::kFailedPrecondition,
                    "key '" + keys->jwt_svid->kid +
                        "' is EdDSA, which the JWT-SVID profile forbids; use ES256, ES384, "
                        "PS256 or RS256");
    }
    pending->key = *keys->jwt_svid;
    pending->caller = caller;

    int64_t iat = UnixSeconds(pending->now);
    boost::json::object& claims = pending->claims;
    claims["sub"] = request.spiffe_id;
    claims["aud"] = AudienceClaim(request.audiences);
    claims["exp"] = iat + ttl.count();
    claims["iat"] = iat;
    if (!options_.jwt_svid_issuer.empty()) {
      claims["iss"] = options_.jwt_svid_issuer;
    }
    if (options_.jwt_svid_jti) {
      SIGNET_ASSIGN_OR_RETURN(pending->audit.jti, RandomJti());
      claims["jti"] = pending->audit.jti;
    }
    SetHeader(pending->header, pending->key, "JWT");
    pending->signing_input = JwtSigningInput(pending->header, claims);
    pending->audit = {Operation::kJwtSvid, caller.spiffe_id,
                      pending->key.kid,    request.spiffe_id,
                      request.audiences,   {},
                      pending->audit.jti,  "",
                      pending->now,        pending->now + ttl};
    return OkStatus();
  };
  Status status = prepare();
  if (!status.ok()) {
    done(status);
    return;
  }
  SignAndFinish(std::move(pending), std::move(done));
}

void Minter::MintAccessToken(const Caller& caller, AccessTokenRequest request,
                             MintCallback<MintedToken> done) {
  done = minter_internal::ReportIssued<MintedToken>(options_.on_issued, std::move(done));
  auto pending = std::make_shared<PendingJwt>();
  auto prepare = [&]() -> Status {
    if (request.subject.empty()) {
      return Status(Code::kInvalidArgument, "access token subject is empty");
    }
    if (request.subject.rfind("spiffe://", 0) == 0) {
      SIGNET_RETURN_IF_ERROR(
          minter_internal::CheckSpiffeSubject(request.subject, "", "access token subject"));
    }
    SIGNET_RETURN_IF_ERROR(CheckAudiences(request.audiences));
    if (request.client_id.empty()) {
      return Status(Code::kInvalidArgument, "access token client_id is empty");
    }
    SIGNET_RETURN_IF_ERROR(CheckScope(request.scope));
    std::vector<std::string> actor_ids;
    for (const Actor& actor : request.actors) {
      if (actor.sub.empty()) {
        return Status(Code::kInvalidArgument, "an actor in the act chain has an empty sub");
      }
      if (actor.sub.rfind("spiffe://", 0) == 0) {
        SIGNET_RETURN_IF_ERROR(minter_internal::CheckSpiffeSubject(actor.sub, "", "actor"));
      }
      actor_ids.push_back(actor.sub);
    }
    if (options_.access_token_issuer.empty()) {
      return Status(Code::kFailedPrecondition, "access_token_issuer is not configured");
    }

    pending->policy = policy();
    SIGNET_ASSIGN_OR_RETURN(Seconds ttl,
                            minter_internal::ResolveTtl(*pending->policy, caller.spiffe_id,
                                                        Operation::kAccessToken, request.ttl));
    pending->now = std::chrono::floor<Seconds>(clock_->Now());
    pending->authorized = {
        Operation::kAccessToken, request.subject, request.audiences, actor_ids, ttl, ""};
    SIGNET_RETURN_IF_ERROR(
        pending->policy->Authorize(caller.spiffe_id, pending->authorized, pending->now));
    SIGNET_RETURN_IF_ERROR(CheckNotDenied(*deny_list_, request.subject, "subject"));
    for (const std::string& actor : actor_ids) {
      SIGNET_RETURN_IF_ERROR(CheckNotDenied(*deny_list_, actor, "actor"));
    }

    std::shared_ptr<const KeySet> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      keys = keys_;
      pending->checks = state_->checks;
    }
    if (!keys->access_token) {
      return Status(Code::kFailedPrecondition, "no access token signing key is configured");
    }
    pending->key = *keys->access_token;
    pending->caller = caller;

    int64_t iat = UnixSeconds(pending->now);
    SIGNET_ASSIGN_OR_RETURN(std::string jti, RandomJti());
    boost::json::object& claims = pending->claims;
    claims["iss"] = options_.access_token_issuer;
    claims["sub"] = request.subject;
    claims["aud"] = AudienceClaim(request.audiences);
    claims["client_id"] = request.client_id;
    claims["iat"] = iat;
    claims["exp"] = iat + ttl.count();
    claims["jti"] = jti;
    if (!request.scope.empty()) {
      claims["scope"] = request.scope;
    }
    if (!request.actors.empty()) {
      claims["act"] = ActClaim(request.actors);
    }
    SetHeader(pending->header, pending->key, "at+jwt");
    pending->signing_input = JwtSigningInput(pending->header, claims);
    pending->audit = {Operation::kAccessToken,
                      caller.spiffe_id,
                      pending->key.kid,
                      request.subject,
                      request.audiences,
                      request.actors,
                      jti,
                      "",
                      pending->now,
                      pending->now + ttl};
    return OkStatus();
  };
  Status status = prepare();
  if (!status.ok()) {
    done(status);
    return;
  }
  SignAndFinish(std::move(pending), std::move(done));
}

}  // namespace signet
