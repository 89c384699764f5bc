#include "backends/pkcs11/keys.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstring>

#include "backends/pkcs11/ck_status.h"
#include "signer/ossl.h"
#include "signer/signature.h"

namespace signet::pkcs11 {

namespace {

// DER OBJECT IDENTIFIERs for CKA_EC_PARAMS.
const Bytes kP256Oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const Bytes kP384Oid = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
const Bytes kEd25519Oid = {0x06, 0x03, 0x2b, 0x65, 0x70};

// DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
const Bytes kSha256DigestInfo = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

using ParamBldPtr = ossl::Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = ossl::Ptr<OSSL_PARAM, OSSL_PARAM_free>;

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return {type, const_cast<void*>(value), static_cast<CK_ULONG>(size)};
}

const Bytes& EcParamsFor(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES384:
      return kP384Oid;
    case Algorithm::kEdDSA:
      return kEd25519Oid;
    default:
      return kP256Oid;
  }
}

// CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40); some modules
// return the bare point. `size` is the bare point's length.
StatusOr<Bytes> UnwrapPoint(Bytes point, size_t size) {
  if (point.size() == size) {
    return point;
  }
  if (point.size() == size + 2 && point[0] == 0x04 && point[1] == size) {
    return Bytes(point.begin() + 2, point.end());
  }
  if (point.size() == size + 3 && point[0] == 0x04 && point[1] == 0x81 && point[2] == size) {
    return Bytes(point.begin() + 3, point.end());
  }
  return Status(Code::kDeviceError, "CKA_EC_POINT has " + std::to_string(point.size()) +
                                        " bytes, expected a " + std::to_string(size) +
                                        "-byte point");
}

StatusOr<Bytes> SpkiFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error(std::string("EVP_PKEY_fromdata(") + type + ")", Code::kDeviceError);
  }
  ossl::PkeyPtr pkey(raw);
  return ossl::PublicKeyDer(pkey.get());
}

}  // namespace

CK_MECHANISM_TYPE GenerationMechanism(Algorithm alg) {
  switch (FamilyOf(alg)) {
    case KeyFamily::kEc:
      return CKM_EC_KEY_PAIR_GEN;
    case KeyFamily::kEd25519:
      return CKM_EC_EDWARDS_KEY_PAIR_GEN;
    case KeyFamily::kRsa:
      return CKM_RSA_PKCS_KEY_PAIR_GEN;
  }
  return CKM_VENDOR_DEFINED;
}

CK_MECHANISM_TYPE SigningMechanism(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
    case Algorithm::kES384:
      return CKM_ECDSA;
    case Algorithm::kEdDSA:
      return CKM_EDDSA;
    case Algorithm::kPS256:
      return CKM_RSA_PKCS_PSS;
    case Algorithm::kRS256:
      return CKM_RSA_PKCS;
  }
  return CKM_VENDOR_DEFINED;
}

StatusOr<KeyPair> GenerateKeyPair(Session& session, const KeySpec& spec, const Bytes& id) {
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ULONG modulus_bits = static_cast<CK_ULONG>(spec.rsa_bits);
  const uint8_t exponent[] = {0x01, 0x00, 0x01};
  CK_MECHANISM_TYPE allowed = SigningMechanism(spec.algorithm);
  const Bytes& ec_params = EcParamsFor(spec.algorithm);

  std::vector<CK_ATTRIBUTE> pub = {
      Attr(CKA_TOKEN, &yes, sizeof(yes)),  Attr(CKA_PRIVATE, &no, sizeof(no)),
      Attr(CKA_VERIFY, &yes, sizeof(yes)), Attr(CKA_LABEL, spec.label.data(), spec.label.size()),
      Attr(CKA_ID, id.data(), id.size()),
  };
  if (FamilyOf(spec.algorithm) == KeyFamily::kRsa) {
    pub.push_back(Attr(CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits)));
    pub.push_back(Attr(CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent)));
  } else {
    pub.push_back(Attr(CKA_EC_PARAMS, ec_params.data(), ec_params.size()));
  }
  std::vector<CK_ATTRIBUTE> priv = {
      Attr(CKA_TOKEN, &yes, sizeof(yes)),
      Attr(CKA_PRIVATE, &yes, sizeof(yes)),
      Attr(CKA_SENSITIVE, &yes, sizeof(yes)),
      Attr(CKA_EXTRACTABLE, &no, sizeof(no)),
      Attr(CKA_SIGN, &yes, sizeof(yes)),
      Attr(CKA_LABEL, spec.label.data(), spec.label.size()),
      Attr(CKA_ID, id.data(), id.size()),
      Attr(CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)),
  };

  CK_MECHANISM mechanism = {GenerationMechanism(spec.algorithm), nullptr, 0};
  KeyPair pair;
  CK_RV rv = session.fn()->C_GenerateKeyPair(session.handle(), &mechanism, pub.data(), pub.size(),
                                             priv.data(), priv.size(), &pair.public_key,
                                             &pair.private_key);
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_GenerateKeyPair(" + std::string(AlgorithmName(spec.algorithm)) + ")", rv));
  return pair;
}

StatusOr<Bytes> PublicKeySpki(Session& session, CK_OBJECT_HANDLE public_key, Algorithm alg) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    return ossl::Error("OSSL_PARAM_BLD_new");
  }

  switch (FamilyOf(alg)) {
    case KeyFamily::kEd25519: {
      SIGNET_ASSIGN_OR_RETURN(Bytes point, session.Attribute(public_key, CKA_EC_POINT));
      SIGNET_ASSIGN_OR_RETURN(Bytes raw, UnwrapPoint(std::move(point), 32));
      ossl::PkeyPtr pkey(
          EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
      if (!pkey) {
        return ossl::Error("EVP_PKEY_new_raw_public_key(Ed25519)", Code::kDeviceError);
      }
      return ossl::PublicKeyDer(pkey.get());
    }
    case KeyFamily::kEc: {
      SIGNET_ASSIGN_OR_RETURN(Bytes point, session.Attribute(public_key, CKA_EC_POINT));
      SIGNET_ASSIGN_OR_RETURN(Bytes raw,
                              UnwrapPoint(std::move(point), 1 + 2 * EcCoordinateSize(alg)));
      const char* group = alg == Algorithm::kES256 ? "P-256" : "P-384";
      if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
          OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, raw.data(),
                                           raw.size()) != 1) {
        return ossl::Error("OSSL_PARAM_BLD_push(EC)");
      }
      return SpkiFromParams("EC", bld.get());
    }
    case KeyFamily::kRsa: {
      SIGNET_ASSIGN_OR_RETURN(Bytes modulus, session.Attribute(public_key, CKA_MODULUS));
      SIGNET_ASSIGN_OR_RETURN(Bytes exponent, session.Attribute(public_key, CKA_PUBLIC_EXPONENT));
      ossl::BnPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
      ossl::BnPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
      if (!n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return ossl::Error("OSSL_PARAM_BLD_push(RSA)");
      }
      return SpkiFromParams("RSA", bld.get());
    }
  }
  return Status(Code::kInternal, "unknown key family");
}

StatusOr<Algorithm> AlgorithmOf(Session& session, CK_OBJECT_HANDLE private_key) {
  SIGNET_ASSIGN_OR_RETURN(CK_ULONG key_type, UlongAttribute(session, private_key, CKA_KEY_TYPE));
  if (key_type == CKK_EC_EDWARDS) {
    return Algorithm::kEdDSA;
  }
  if (key_type == CKK_EC) {
    SIGNET_ASSIGN_OR_RETURN(Bytes params, session.Attribute(private_key, CKA_EC_PARAMS));
    if (params == kP256Oid) {
      return Algorithm::kES256;
    }
    if (params == kP384Oid) {
      return Algorithm::kES384;
    }
    return Status(
        Code::kUnsupported,
        "EC key on a curve other than P-256 and P-384 (CKA_EC_PARAMS " + HexEncode(params) + ")");
  }
  if (key_type == CKK_RSA) {
    // Keys made elsewhere carry no CKA_ALLOWED_MECHANISMS; they are taken as RS256.
    StatusOr<Bytes> allowed = session.Attribute(private_key, CKA_ALLOWED_MECHANISMS);
    if (allowed.ok()) {
      for (size_t at = 0; at + sizeof(CK_MECHANISM_TYPE) <= allowed->size();
           at += sizeof(CK_MECHANISM_TYPE)) {
        CK_MECHANISM_TYPE mechanism;
        std::memcpy(&mechanism, allowed->data() + at, sizeof(mechanism));
        if (mechanism == CKM_RSA_PKCS_PSS) {
          return Algorithm::kPS256;
        }
      }
    }
    return Algorithm::kRS256;
  }
  return Status(Code::kUnsupported,
                "key type CKK 0x" + std::to_string(key_type) + " is not one signet signs with");
}

StatusOr<CK_OBJECT_HANDLE> FindKey(Session& session, CK_OBJECT_CLASS klass, const Bytes& id,
                                   const std::string& label) {
  std::vector<CK_ATTRIBUTE> attrs = {Attr(CKA_CLASS, &klass, sizeof(klass))};
  if (!id.empty()) {
    attrs.push_back(Attr(CKA_ID, id.data(), id.size()));
  }
  if (!label.empty()) {
    attrs.push_back(Attr(CKA_LABEL, label.data(), label.size()));
  }
  SIGNET_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, session.Find(attrs, 2));
  const char* what = klass == CKO_PRIVATE_KEY ? "private" : "public";
  if (found.empty()) {
    return Status(Code::kNotFound, std::string("no ") + what + " key with label '" + label +
                                       "' and id '" + HexEncode(id) + "' in the token");
  }
  if (found.size() > 1) {
    return Status(Code::kInvalidArgument, std::string("more than one ") + what +
                                              " key matches label '" + label + "' and id '" +
                                              HexEncode(id) + "'; name the key by id");
  }
  return found.front();
}

StatusOr<Bytes> SignRaw(Session& session, CK_OBJECT_HANDLE private_key, Algorithm alg,
                        const SignRequest& request) {
  CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM mechanism = {SigningMechanism(alg), nullptr, 0};
  if (alg == Algorithm::kPS256) {
    mechanism.pParameter = &pss;
    mechanism.ulParameterLen = sizeof(pss);
  }

  Bytes data;
  if (alg == Algorithm::kEdDSA) {
    data = request.input;
  } else {
    SIGNET_ASSIGN_OR_RETURN(data, DigestToSign(alg, request));
  }
  if (alg == Algorithm::kRS256) {
    data.insert(data.begin(), kSha256DigestInfo.begin(), kSha256DigestInfo.end());
  }

  CK_FUNCTION_LIST* fn = session.fn();
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_SignInit", fn->C_SignInit(session.handle(), &mechanism, private_key)));
  Bytes signature(1024);  // room for RSA up to 8192 bits: one C_Sign, no length query
  CK_ULONG length = signature.size();
  SIGNET_RETURN_IF_ERROR(CkStatus(
      "C_Sign", fn->C_Sign(session.handle(), data.data(), data.size(), signature.data(), &length)));
  signature.resize(length);
  return signature;
}

}  // namespace signet::pkcs11
