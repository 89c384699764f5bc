// Reading the audit key's public half for verification: a PEM or DER
// SubjectPublicKeyInfo file, a single JWK, or a JWKS.
//
// Thread safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "signer/backend.h"
#include "signer/status.h"

namespace signet::audit {

// The keys in a file as (key id, key) pairs. PEM and DER files give one key with an
// empty id (it matches any checkpoint); a JWK or JWKS gives each key with its `kid`.
// JWKs of kty EC (P-256, P-384), OKP (Ed25519) and RSA are understood.
StatusOr<std::vector<std::pair<std::string, PublicKey>>> LoadPublicKeys(const std::string& path);

}  // namespace signet::audit
