#include "signer/audit/key_file.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "signer/audit/segment.h"
#include "signer/bytes.h"
#include "signer/ossl.h"

namespace signet::audit {
namespace {

using ParamBldPtr = ossl::Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = ossl::Ptr<OSSL_PARAM, OSSL_PARAM_free>;

StatusOr<Bytes> MemberBytes(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return Status(Code::kInvalidArgument, "JWK member '" + std::string(name) + "' missing");
  }
  return Base64UrlDecode(std::string_view(v->get_string()));
}

StatusOr<ossl::PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error("EVP_PKEY_fromdata", Code::kInvalidArgument);
  }
  return ossl::PkeyPtr(raw);
}

StatusOr<PublicKey> JwkToPublicKey(const boost::json::object& jwk) {
  const boost::json::value* kty = jwk.if_contains("kty");
  std::string type = kty && kty->is_string() ? std::string(kty->get_string()) : "";
  ossl::PkeyPtr pkey;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (type == "EC") {
    const boost::json::value* crv = jwk.if_contains("crv");
    std::string curve = crv && crv->is_string() ? std::string(crv->get_string()) : "";
    const char* group = curve == "P-256" ? "prime256v1" : curve == "P-384" ? "secp384r1" : "";
    if (*group == '\0') {
      return Status(Code::kUnsupported, "JWK curve '" + curve + "' is not P-256 or P-384");
    }
    SIGNET_ASSIGN_OR_RETURN(Bytes x, MemberBytes(jwk, "x"));
    SIGNET_ASSIGN_OR_RETURN(Bytes y, MemberBytes(jwk, "y"));
    Bytes point{0x04};
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    SIGNET_ASSIGN_OR_RETURN(pkey, FromParams("EC", bld.get()));
  } else if (type == "OKP") {
    SIGNET_ASSIGN_OR_RETURN(Bytes x, MemberBytes(jwk, "x"));
    pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x.data(), x.size()));
    if (!pkey) {
      return ossl::Error("EVP_PKEY_new_raw_public_key", Code::kInvalidArgument);
    }
  } else if (type == "RSA") {
    SIGNET_ASSIGN_OR_RETURN(Bytes n, MemberBytes(jwk, "n"));
    SIGNET_ASSIGN_OR_RETURN(Bytes e, MemberBytes(jwk, "e"));
    ossl::BnPtr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    ossl::BnPtr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
    SIGNET_ASSIGN_OR_RETURN(pkey, FromParams("RSA", bld.get()));
  } else {
    return Status(Code::kUnsupported, "JWK kty '" + type + "' is not EC, OKP or RSA");
  }
  SIGNET_ASSIGN_OR_RETURN(Bytes der, ossl::PublicKeyDer(pkey.get()));
  return PublicKey{std::move(der)};
}

StatusOr<std::vector<std::pair<std::string, PublicKey>>> LoadJwks(const std::string& text,
                                                                  const std::string& path) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) {
    return Status(Code::kInvalidArgument, path + " is not a JSON object");
  }
  boost::json::array single;
  const boost::json::array* keys = nullptr;
  if (const boost::json::value* list = doc.get_object().if_contains("keys")) {
    keys = list->if_array();
  } else {
    single.push_back(doc);
    keys = &single;
  }
  if (keys == nullptr) {
    return Status(Code::kInvalidArgument, path + ": member 'keys' is not an array");
  }
  std::vector<std::pair<std::string, PublicKey>> out;
  for (const boost::json::value& jwk : *keys) {
    if (!jwk.is_object()) {
      return Status(Code::kInvalidArgument, path + ": a JWKS entry is not an object");
    }
    SIGNET_ASSIGN_OR_RETURN(PublicKey key, JwkToPublicKey(jwk.get_object()));
    const boost::json::value* kid = jwk.get_object().if_contains("kid");
    out.emplace_back(kid && kid->is_string() ? std::string(kid->get_string()) : "", std::move(key));
  }
  return out;
}

}  // namespace

StatusOr<std::vector<std::pair<std::string, PublicKey>>> LoadPublicKeys(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    return LoadJwks(text, path);
  }

  Bytes der(text.begin(), text.end());
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string::npos) {
    ossl::BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    ossl::PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!pkey) {
      return ossl::Error("PEM_read_bio_PUBKEY(" + path + ")", Code::kInvalidArgument);
    }
    SIGNET_ASSIGN_OR_RETURN(der, ossl::PublicKeyDer(pkey.get()));
  }
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr parsed, ossl::ParsePublicKey(der));
  std::vector<std::pair<std::string, PublicKey>> out;
  out.emplace_back("", PublicKey{std::move(der)});
  return out;
}

}  // namespace signet::audit
