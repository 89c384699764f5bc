// Public keys out: the JWK Set for relying parties and the SPIFFE trust bundle.
#include <boost/json/serialize.hpp>

#include <set>

#include "signer/jwk.h"
#include "signer/minter.h"
#include "signer/minter_internal.h"
#include "signer/x509_sign.h"

namespace signet {
namespace {

// Active key first, then published ones; each kid once.
std::vector<const JwtKey*> DistinctKeys(std::initializer_list<const JwtKey*> first,
                                        const std::vector<JwtKey>& rest) {
  std::vector<const JwtKey*> out;
  std::set<std::string> seen;
  auto add = [&](const JwtKey* k) {
    if (k != nullptr && k->key && seen.insert(k->kid).second) {
      out.push_back(k);
    }
  };
  for (const JwtKey* k : first) {
    add(k);
  }
  for (const JwtKey& k : rest) {
    add(&k);
  }
  return out;
}

StatusOr<boost::json::object> X509AuthorityJwk(const Bytes& cert_der) {
  SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr cert, ParseCertificate(cert_der));
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (pub == nullptr) {
    return ossl::Error("X509_get0_pubkey");
  }
  SIGNET_ASSIGN_OR_RETURN(Algorithm alg, AlgorithmForKey(pub));
  SIGNET_ASSIGN_OR_RETURN(Bytes spki, ossl::PublicKeyDer(pub));
  SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk, PublicKeyToJwk(PublicKey{spki}, alg, ""));
  jwk.erase("alg");
  jwk.erase("kid");
  jwk["use"] = "x509-svid";
  boost::json::array x5c;
  x5c.emplace_back(Base64Encode(cert_der));
  jwk["x5c"] = std::move(x5c);
  return jwk;
}

}  // namespace

StatusOr<std::string> Minter::JwksJson() const {
  std::shared_ptr<const KeySet> keys = this->keys();
  boost::json::array array;
  for (const JwtKey* k : DistinctKeys({keys->jwt_svid ? &*keys->jwt_svid : nullptr,
                                       keys->access_token ? &*keys->access_token : nullptr},
                                      keys->published_jwt)) {
    SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk,
                            PublicKeyToJwk(k->key->public_key(), k->key->algorithm(), k->kid));
    array.push_back(std::move(jwk));
  }
  boost::json::object jwks;
  jwks["keys"] = std::move(array);
  return boost::json::serialize(jwks);
}

StatusOr<std::string> Minter::SpiffeBundleJson() const {
  std::shared_ptr<const KeySet> keys = this->keys();
  boost::json::array array;
  for (const JwtKey* k :
       DistinctKeys({keys->jwt_svid ? &*keys->jwt_svid : nullptr}, keys->published_jwt)) {
    if (k->key->algorithm() == Algorithm::kEdDSA) {
      continue;  // the JWT-SVID profile forbids EdDSA, so no verifier needs these keys
    }
    SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk,
                            PublicKeyToJwk(k->key->public_key(), k->key->algorithm(), k->kid));
    jwk["use"] = "jwt-svid";
    array.push_back(std::move(jwk));
  }
  for (const Bytes& root : keys->x509_roots) {
    SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk, X509AuthorityJwk(root));
    array.push_back(std::move(jwk));
  }

  std::string content = boost::json::serialize(array);
  uint64_t sequence;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (content != state_->last_keys || state_->sequence == 0) {
      // Seeded from the clock so that a restarted process does not go backwards.
      uint64_t now = static_cast<uint64_t>(std::max<int64_t>(0, UnixSeconds(clock_->Now())));
      state_->sequence = std::max(state_->sequence + 1, now);
      state_->last_keys = std::move(content);
    }
    sequence = state_->sequence;
  }

  boost::json::object bundle;
  bundle["keys"] = std::move(array);
  bundle["spiffe_sequence"] = sequence;
  bundle["spiffe_refresh_hint"] = options_.bundle_refresh_hint.count();
  return boost::json::serialize(bundle);
}

}  // namespace signet
