#include "signer/minter.h"

#include "signer/minter_internal.h"
#include "signer/spiffe_id.h"
#include "signer/x509_sign.h"

namespace signet {
namespace minter_internal {

Status CheckNotDenied(const DenyList& deny, std::string_view identity, std::string_view role) {
  if (deny.Contains(identity)) {
    return Status(Code::kPermissionDenied,
                  std::string(role) + " '" + std::string(identity) + "' is terminated (deny list)");
  }
  return OkStatus();
}

StatusOr<Seconds> ResolveTtl(const Policy& policy, std::string_view caller, Operation op,
                             Seconds requested) {
  if (requested < Seconds(0)) {
    return Status(Code::kInvalidArgument,
                  "ttl must not be negative, got " + std::to_string(requested.count()) + "s");
  }
  if (requested > Seconds(0)) {
    return requested;
  }
  return policy.MaxTtl(caller, op);
}

Status CheckSpiffeSubject(std::string_view id, std::string_view trust_domain,
                          std::string_view role) {
  StatusOr<SpiffeId> parsed = SpiffeId::Parse(id);
  if (!parsed.ok()) {
    return parsed.status().WithContext(std::string(role) + ": ");
  }
  if (!trust_domain.empty() && parsed->trust_domain() != trust_domain) {
    return Status(Code::kInvalidArgument, std::string(role) + " '" + std::string(id) +
                                              "' is not in trust domain '" +
                                              std::string(trust_domain) + "'");
  }
  return OkStatus();
}

Status CheckWith(const CheckMap& checks, const SigningKey& key, const SignRequest& request,
                 ByteView signature) {
  auto it = checks.find(&key);
  if (it == checks.end()) {
    return VerifySignature(key.public_key(), key.algorithm(), request, signature);
  }
  return it->second.check->Check(request, signature);
}

}  // namespace minter_internal

Minter::Minter(Options options, std::shared_ptr<const Clock> clock,
               std::shared_ptr<const Policy> policy, std::shared_ptr<DenyList> deny_list)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      deny_list_(std::move(deny_list)),
      keys_(std::make_shared<const KeySet>()),
      policy_(std::move(policy)),
      state_(std::make_unique<State>()) {
  if (!policy_) {
    policy_ = std::make_shared<const Policy>();
  }
}

Minter::~Minter() = default;

void Minter::SetKeys(KeySet keys) {
  std::shared_ptr<const minter_internal::CheckMap> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = state_->checks;
  }
  auto checks = std::make_shared<minter_internal::CheckMap>();
  auto add = [&](const std::shared_ptr<SigningKey>& key) {
    if (!key || checks->count(key.get()) > 0) {
      return;
    }
    // A key service may publish the same keys again every few seconds: a key that stays
    // keeps its check, so that a device that failed once stays under full checking.
    auto kept = previous->find(key.get());
    if (kept != previous->end()) {
      checks->emplace(key.get(), kept->second);
      return;
    }
    // A key whose public key does not parse gets no check; CheckWith then reports it.
    StatusOr<SignatureVerifier> verifier =
        SignatureVerifier::Create(key->public_key(), key->algorithm());
    if (verifier.ok()) {
      checks->emplace(key.get(), minter_internal::KeyCheck{
                                     key, std::make_shared<SignatureCheck>(std::move(*verifier),
                                                                           options_.check_rate)});
    }
  };
  if (keys.jwt_svid) {
    add(keys.jwt_svid->key);
  }
  if (keys.access_token) {
    add(keys.access_token->key);
  }
  for (const auto& [name, raw] : keys.raw) {
    add(raw.key);
  }

  std::shared_ptr<X509> ca_cert;
  std::shared_ptr<const SignatureVerifier> ca_verifier;
  Status ca_error;
  if (keys.x509_ca) {
    StatusOr<ossl::X509Ptr> parsed = ParseCertificate(keys.x509_ca->cert_der);
    EVP_PKEY* ca_key = parsed.ok() ? X509_get0_pubkey(parsed->get()) : nullptr;
    if (ca_key != nullptr) {
      X509_check_purpose(parsed->get(), -1, 0);  // caches extensions before threads share it
      ca_verifier = std::make_shared<const SignatureVerifier>(
          SignatureVerifier::ForKey(ca_key, keys.x509_ca->key->algorithm()));
      ca_cert = std::shared_ptr<X509>(parsed->release(), X509_free);
    } else {
      ca_error = parsed.ok() ? ossl::Error("X509_get0_pubkey(CA certificate)") : parsed.status();
    }
  }

  auto shared = std::make_shared<const KeySet>(std::move(keys));
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(shared);
  state_->checks = std::move(checks);
  state_->ca_cert = std::move(ca_cert);
  state_->ca_verifier = std::move(ca_verifier);
  state_->ca_error = std::move(ca_error);
}

void Minter::SetPolicy(std::shared_ptr<const Policy> policy) {
  if (!policy) {
    policy = std::make_shared<const Policy>();
  }
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(policy);
}

std::shared_ptr<const KeySet> Minter::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

std::shared_ptr<const Policy> Minter::policy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

StatusOr<MintedToken> Minter::MintJwtSvidAndWait(const Caller& caller, JwtSvidRequest request) {
  return minter_internal::Wait<MintedToken>(
      [&](MintCallback<MintedToken> done) { MintJwtSvid(caller, std::move(request), done); });
}

StatusOr<MintedToken> Minter::MintAccessTokenAndWait(const Caller& caller,
                                                     AccessTokenRequest request) {
  return minter_internal::Wait<MintedToken>(
      [&](MintCallback<MintedToken> done) { MintAccessToken(caller, std::move(request), done); });
}

StatusOr<MintedCertificate> Minter::MintX509SvidAndWait(const Caller& caller,
                                                        X509SvidRequest request) {
  return minter_internal::Wait<MintedCertificate>([&](MintCallback<MintedCertificate> done) {
    MintX509Svid(caller, std::move(request), done);
  });
}

StatusOr<RawSignature> Minter::SignRawAndWait(const Caller& caller, RawSignRequest request) {
  return minter_internal::Wait<RawSignature>(
      [&](MintCallback<RawSignature> done) { SignRaw(caller, std::move(request), done); });
}

}  // namespace signet
