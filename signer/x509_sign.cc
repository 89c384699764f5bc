#include "signer/x509_sign.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <ctime>

namespace signet {
namespace {

using AlgorPtr = ossl::Ptr<X509_ALGOR, X509_ALGOR_free>;
using PssParamsPtr = ossl::Ptr<RSA_PSS_PARAMS, RSA_PSS_PARAMS_free>;
using Asn1StringPtr = ossl::Ptr<ASN1_STRING, ASN1_STRING_free>;

// DER of `obj` wrapped as the ASN1_STRING an X509_ALGOR parameter holds.
template <typename T>
StatusOr<Asn1StringPtr> PackSequence(T* obj, int (*i2d)(const T*, unsigned char**),
                                     const char* what) {
  unsigned char* der = nullptr;
  int len = i2d(obj, &der);
  if (len <= 0) {
    return ossl::Error(what);
  }
  ossl::OpenSslStringPtr owned(reinterpret_cast<char*>(der));
  Asn1StringPtr str(ASN1_STRING_new());
  if (!str || ASN1_STRING_set(str.get(), der, len) != 1) {
    return ossl::Error("ASN1_STRING_set");
  }
  return str;
}

// RSASSA-PSS-params for PS256: SHA-256, MGF1 with SHA-256, salt 32, trailer 1 (default).
StatusOr<Asn1StringPtr> Ps256Params() {
  PssParamsPtr params(RSA_PSS_PARAMS_new());
  AlgorPtr mgf1_hash(X509_ALGOR_new());
  if (!params || !mgf1_hash) {
    return ossl::Error("RSA_PSS_PARAMS_new");
  }
  params->hashAlgorithm = X509_ALGOR_new();
  params->maskGenAlgorithm = X509_ALGOR_new();
  params->saltLength = ASN1_INTEGER_new();
  if (params->hashAlgorithm == nullptr || params->maskGenAlgorithm == nullptr ||
      params->saltLength == nullptr || ASN1_INTEGER_set(params->saltLength, 32) != 1) {
    return ossl::Error("building RSASSA-PSS-params");
  }
  X509_ALGOR_set_md(params->hashAlgorithm, EVP_sha256());
  X509_ALGOR_set_md(mgf1_hash.get(), EVP_sha256());
  SIGNET_ASSIGN_OR_RETURN(
      Asn1StringPtr mgf1_param,
      PackSequence<X509_ALGOR>(mgf1_hash.get(), i2d_X509_ALGOR, "i2d_X509_ALGOR"));
  if (X509_ALGOR_set0(params->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
                      mgf1_param.get()) != 1) {
    return ossl::Error("X509_ALGOR_set0(mgf1)");
  }
  mgf1_param.release();
  return PackSequence<RSA_PSS_PARAMS>(params.get(), i2d_RSA_PSS_PARAMS, "i2d_RSA_PSS_PARAMS");
}

Status SetAlgor(X509_ALGOR* algor, Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256:
      X509_ALGOR_set0(algor, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, nullptr);
      return OkStatus();
    case Algorithm::kES384:
      X509_ALGOR_set0(algor, OBJ_nid2obj(NID_ecdsa_with_SHA384), V_ASN1_UNDEF, nullptr);
      return OkStatus();
    case Algorithm::kEdDSA:
      X509_ALGOR_set0(algor, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, nullptr);
      return OkStatus();
    case Algorithm::kRS256:
      X509_ALGOR_set0(algor, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, nullptr);
      return OkStatus();
    case Algorithm::kPS256: {
      SIGNET_ASSIGN_OR_RETURN(Asn1StringPtr params, Ps256Params());
      if (X509_ALGOR_set0(algor, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params.get()) != 1) {
        return ossl::Error("X509_ALGOR_set0(rsassaPss)");
      }
      params.release();
      return OkStatus();
    }
  }
  return Status(Code::kInternal, "unknown algorithm");
}

StatusOr<TimePoint> ToTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return ossl::Error("ASN1_TIME_to_tm");
  }
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

}  // namespace

Status PrepareCertificateSignature(X509* cert, Algorithm alg) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(&sig, &outer, cert);
  SIGNET_RETURN_IF_ERROR(SetAlgor(const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(cert)), alg));
  return SetAlgor(const_cast<X509_ALGOR*>(outer), alg);
}

StatusOr<Bytes> TbsBytes(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_re_X509_tbs(cert, &der);
  if (len <= 0) {
    return ossl::Error("i2d_re_X509_tbs");
  }
  ossl::OpenSslStringPtr owned(reinterpret_cast<char*>(der));
  return Bytes(der, der + len);
}

StatusOr<Bytes> AttachSignature(X509* cert, ByteView signature) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(&sig, &outer, cert);
  auto* bits = const_cast<ASN1_BIT_STRING*>(sig);
  if (ASN1_BIT_STRING_set(bits, const_cast<uint8_t*>(signature.data()),
                          static_cast<int>(signature.size())) != 1) {
    return ossl::Error("ASN1_BIT_STRING_set");
  }
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);  // whole bytes: no unused bits
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) {
    return ossl::Error("i2d_X509");
  }
  ossl::OpenSslStringPtr owned(reinterpret_cast<char*>(der));
  return Bytes(der, der + len);
}

StatusOr<Bytes> SignCertificateAndWait(X509* cert, SigningKey& key) {
  SIGNET_RETURN_IF_ERROR(PrepareCertificateSignature(cert, key.algorithm()));
  SIGNET_ASSIGN_OR_RETURN(Bytes tbs, TbsBytes(cert));
  SIGNET_ASSIGN_OR_RETURN(Bytes signature,
                          key.SignAndWait(SignRequest{tbs, false, SignatureFormat::kDer}));
  return AttachSignature(cert, signature);
}

StatusOr<std::string> SetRandomSerial(X509* cert) {
  Bytes bytes(16);
  do {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return ossl::Error("RAND_bytes");
    }
  } while (bytes[0] == 0);  // keep all 128 bits significant, so every serial has 16 bytes
  // An unsigned big number: DER adds a leading zero byte when the top bit is set,
  // so the INTEGER is always positive (at most 17 content bytes; RFC 5280 allows 20).
  ossl::BnPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return ossl::Error("BN_to_ASN1_INTEGER");
  }
  return HexEncode(bytes);
}

Status SetValidity(X509* cert, TimePoint not_before, TimePoint not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(UnixSeconds(not_before))) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(UnixSeconds(not_after))) ==
          nullptr) {
    return ossl::Error("ASN1_TIME_set");
  }
  return OkStatus();
}

StatusOr<TimePoint> NotAfter(const X509* cert) {
  return ToTimePoint(X509_get0_notAfter(cert));
}

StatusOr<TimePoint> NotBefore(const X509* cert) {
  return ToTimePoint(X509_get0_notBefore(cert));
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  ossl::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) {
    return ossl::Error(std::string("X509V3_EXT_conf_nid(") + OBJ_nid2sn(nid) + ", " + value + ")");
  }
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return ossl::Error("X509_add_ext");
  }
  return OkStatus();
}

StatusOr<Algorithm> AlgorithmForKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      if (EVP_PKEY_get_bits(key) == 256) {
        return Algorithm::kES256;
      }
      if (EVP_PKEY_get_bits(key) == 384) {
        return Algorithm::kES384;
      }
      return Status(Code::kUnsupported, "EC key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                                            " bits; only P-256 and P-384 are accepted");
    case EVP_PKEY_ED25519:
      return Algorithm::kEdDSA;
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048) {
        return Status(Code::kUnsupported, "RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                                              " bits; at least 2048 are required");
      }
      return Algorithm::kRS256;
    default:
      return Status(Code::kUnsupported, "unsupported public key type " +
                                            std::string(OBJ_nid2sn(EVP_PKEY_get_base_id(key))));
  }
}

StatusOr<ossl::X509Ptr> ParseCertificate(ByteView der) {
  const unsigned char* p = der.data();
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    return ossl::Error("d2i_X509", Code::kInvalidArgument);
  }
  return cert;
}

std::string CertificatePem(ByteView der) {
  return PemEncode("CERTIFICATE", der);
}

std::string SubjectKeyIdHex(const X509* cert) {
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(const_cast<X509*>(cert));
  if (skid == nullptr) {
    return "";
  }
  return HexEncode(ByteView(ASN1_STRING_get0_data(skid), ASN1_STRING_length(skid)));
}

}  // namespace signet
