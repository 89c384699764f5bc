// The signature algorithms signet offers, named as JOSE names them (RFC 7518, RFC 8037).
//
// A key is bound to one algorithm for its whole life: an ES256 key never signs
// ES384, an RS256 key never signs PS256. This keeps a `kid` meaning one thing.
#pragma once

#include <string_view>

#include "signer/status.h"

namespace signet {

enum class Algorithm {
  kES256,  // ECDSA P-256 with SHA-256
  kES384,  // ECDSA P-384 with SHA-384
  kEdDSA,  // Ed25519 (pure EdDSA: signs messages, never digests)
  kPS256,  // RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32
  kRS256,  // RSASSA-PKCS1-v1_5 with SHA-256
};

enum class KeyFamily { kEc, kEd25519, kRsa };

enum class HashAlgorithm { kNone, kSha256, kSha384 };

inline constexpr Algorithm kAllAlgorithms[] = {
    Algorithm::kES256, Algorithm::kES384, Algorithm::kEdDSA, Algorithm::kPS256, Algorithm::kRS256};

// "ES256", "ES384", "EdDSA", "PS256", "RS256".
std::string_view AlgorithmName(Algorithm alg);

// Parses a JOSE name; the error names the value given and the ones accepted.
StatusOr<Algorithm> ParseAlgorithm(std::string_view name);

KeyFamily FamilyOf(Algorithm alg);

// The hash applied to the message before signing; kNone for EdDSA.
HashAlgorithm HashOf(Algorithm alg);

// Size in bytes of the digest for `alg` (0 for EdDSA).
size_t DigestSize(Algorithm alg);

// Size in bytes of one ECDSA coordinate (32 for P-256, 48 for P-384); 0 otherwise.
size_t EcCoordinateSize(Algorithm alg);

}  // namespace signet
