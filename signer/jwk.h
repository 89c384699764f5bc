// Public keys as JSON Web Keys (RFC 7517, RFC 7518 section 6, RFC 8037).
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "signer/algorithm.h"
#include "signer/backend.h"
#include "signer/status.h"

namespace signet {

// The JWK of a public key: kty and its key members, plus `kid`, `alg` and `use: sig`
// when kid is not empty. Fails when the key does not match the algorithm's family.
StatusOr<boost::json::object> PublicKeyToJwk(const PublicKey& key, Algorithm alg,
                                             std::string_view kid);

// The RFC 7638 thumbprint (SHA-256, base64url) of the key's required JWK members;
// a stable, content-derived key id.
StatusOr<std::string> JwkThumbprint(const PublicKey& key, Algorithm alg);

}  // namespace signet
