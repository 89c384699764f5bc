#include "signer/algorithm.h"

#include <string>

namespace signet {

std::string_view AlgorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
      return "ES256";
    case Algorithm::kES384:
      return "ES384";
    case Algorithm::kEdDSA:
      return "EdDSA";
    case Algorithm::kPS256:
      return "PS256";
    case Algorithm::kRS256:
      return "RS256";
  }
  return "unknown";
}

StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  for (Algorithm alg : kAllAlgorithms) {
    if (AlgorithmName(alg) == name) {
      return alg;
    }
  }
  return Status(Code::kInvalidArgument, "unknown algorithm '" + std::string(name) +
                                            "' (expected ES256, ES384, EdDSA, PS256 or RS256)");
}

KeyFamily FamilyOf(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
    case Algorithm::kES384:
      return KeyFamily::kEc;
    case Algorithm::kEdDSA:
      return KeyFamily::kEd25519;
    case Algorithm::kPS256:
    case Algorithm::kRS256:
      return KeyFamily::kRsa;
  }
  return KeyFamily::kEc;
}

HashAlgorithm HashOf(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES384:
      return HashAlgorithm::kSha384;
    case Algorithm::kEdDSA:
      return HashAlgorithm::kNone;
    default:
      return HashAlgorithm::kSha256;
  }
}

size_t DigestSize(Algorithm alg) {
  switch (HashOf(alg)) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kNone:
      return 0;
  }
  return 0;
}

size_t EcCoordinateSize(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
      return 32;
    case Algorithm::kES384:
      return 48;
    default:
      return 0;
  }
}

}  // namespace signet
