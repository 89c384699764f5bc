#include "signer/jwk.h"

#include <openssl/core_names.h>
#include <openssl/sha.h>

#include <boost/json/serialize.hpp>

#include "signer/ossl.h"

namespace signet {
namespace {

StatusOr<Bytes> BigNumParam(EVP_PKEY* key, const char* name, size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return ossl::Error(std::string("EVP_PKEY_get_bn_param(") + name + ")");
  }
  ossl::BnPtr bn(raw);
  size_t size = std::max(pad_to, static_cast<size_t>(BN_num_bytes(bn.get())));
  Bytes out(size);
  BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size));
  return out;
}

StatusOr<Bytes> OctetParam(EVP_PKEY* key, const char* name) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, name, nullptr, 0, &len) != 1) {
    return ossl::Error(std::string("EVP_PKEY_get_octet_string_param(") + name + ")");
  }
  Bytes out(len);
  if (EVP_PKEY_get_octet_string_param(key, name, out.data(), out.size(), &len) != 1) {
    return ossl::Error(std::string("EVP_PKEY_get_octet_string_param(") + name + ")");
  }
  return out;
}

// The required members of the JWK in lexicographic order (RFC 7638 section 3.2).
StatusOr<boost::json::object> RequiredMembers(const PublicKey& key, Algorithm alg) {
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr pkey, ossl::ParsePublicKey(key.spki_der));
  boost::json::object jwk;
  switch (FamilyOf(alg)) {
    case KeyFamily::kEc: {
      if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_EC) {
        return Status(Code::kInvalidArgument, "public key is not an EC key, but the algorithm is " +
                                                  std::string(AlgorithmName(alg)));
      }
      size_t n = EcCoordinateSize(alg);
      if (EVP_PKEY_get_bits(pkey.get()) != static_cast<int>(n * 8)) {
        return Status(Code::kInvalidArgument,
                      "EC key size does not match " + std::string(AlgorithmName(alg)));
      }
      SIGNET_ASSIGN_OR_RETURN(Bytes x, BigNumParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, n));
      SIGNET_ASSIGN_OR_RETURN(Bytes y, BigNumParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, n));
      jwk["crv"] = alg == Algorithm::kES256 ? "P-256" : "P-384";
      jwk["kty"] = "EC";
      jwk["x"] = Base64UrlEncode(x);
      jwk["y"] = Base64UrlEncode(y);
      break;
    }
    case KeyFamily::kEd25519: {
      if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519) {
        return Status(Code::kInvalidArgument, "public key is not an Ed25519 key");
      }
      SIGNET_ASSIGN_OR_RETURN(Bytes x, OctetParam(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY));
      jwk["crv"] = "Ed25519";
      jwk["kty"] = "OKP";
      jwk["x"] = Base64UrlEncode(x);
      break;
    }
    case KeyFamily::kRsa: {
      if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
        return Status(Code::kInvalidArgument,
                      "public key is not an RSA key, but the algorithm "
                      "is " +
                          std::string(AlgorithmName(alg)));
      }
      SIGNET_ASSIGN_OR_RETURN(Bytes e, BigNumParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0));
      SIGNET_ASSIGN_OR_RETURN(Bytes n, BigNumParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0));
      jwk["e"] = Base64UrlEncode(e);
      jwk["kty"] = "RSA";
      jwk["n"] = Base64UrlEncode(n);
      break;
    }
  }
  return jwk;
}

}  // namespace

StatusOr<boost::json::object> PublicKeyToJwk(const PublicKey& key, Algorithm alg,
                                             std::string_view kid) {
  SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk, RequiredMembers(key, alg));
  if (!kid.empty()) {
    jwk["kid"] = kid;
    jwk["alg"] = AlgorithmName(alg);
    jwk["use"] = "sig";
  }
  return jwk;
}

StatusOr<std::string> JwkThumbprint(const PublicKey& key, Algorithm alg) {
  SIGNET_ASSIGN_OR_RETURN(boost::json::object jwk, RequiredMembers(key, alg));
  std::string canonical = boost::json::serialize(jwk);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return Base64UrlEncode(ByteView(digest, sizeof(digest)));
}

}  // namespace signet
