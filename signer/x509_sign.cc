#include "signer/x509_sign.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
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

Status SetSubjectPublicKeyInfo(X509* cert, const X509_PUBKEY* spki) {
  const unsigned char* bits = nullptr;
  int bits_length = 0;
  X509_ALGOR* from = nullptr;
  X509_PUBKEY* target = X509_get_X509_PUBKEY(cert);
  if (target == nullptr || X509_PUBKEY_get0_param(nullptr, &bits, &bits_length, &from, spki) != 1) {
    return ossl::Error("X509_PUBKEY_get0_param");
  }
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(bits_length)));
  if (copy == nullptr && bits_length > 0) {
    return ossl::Error("OPENSSL_memdup");
  }
  // The key bits pass to `target`; its algorithm is cleared here and copied just below.
  if (X509_PUBKEY_set0_param(target, nullptr, V_ASN1_EOC, nullptr, copy, bits_length) != 1) {
    OPENSSL_free(copy);
    return ossl::Error("X509_PUBKEY_set0_param");
  }
  X509_ALGOR* to = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &to, target) != 1 ||
      X509_ALGOR_copy(to, from) != 1) {
    return ossl::Error("X509_ALGOR_copy(SubjectPublicKeyInfo algorithm)");
  }
  return OkStatus();
}

bool SamePublicKeyInfo(const X509_PUBKEY* a, const X509_PUBKEY* b) {
  const unsigned char* a_bits = nullptr;
  const unsigned char* b_bits = nullptr;
  int a_length = 0;
  int b_length = 0;
  X509_ALGOR* a_alg = nullptr;
  X509_ALGOR* b_alg = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &a_bits, &a_length, &a_alg, a) != 1 ||
      X509_PUBKEY_get0_param(nullptr, &b_bits, &b_length, &b_alg, b) != 1) {
    return false;
  }
  return X509_ALGOR_cmp(a_alg, b_alg) == 0 && a_length == b_length &&
         std::equal(a_bits, a_bits + a_length, b_bits);
}

namespace {

// Reads the DER header at `*p` (at most `end - *p` bytes) and returns the whole
// element (header and content); advances `*p` past it, or into its content when
// `enter` is set. Empty when the element is malformed or not of `tag`.
ByteView NextElement(const unsigned char** p, const unsigned char* end, int tag, bool enter) {
  const unsigned char* start = *p;
  const unsigned char* content = *p;
  long length = 0;
  int got_tag = 0;
  int got_class = 0;
  int rc = ASN1_get_object(&content, &length, &got_tag, &got_class, end - start);
  if ((rc & 0x80) != 0 || got_tag != tag || got_class != V_ASN1_UNIVERSAL ||
      length > end - content) {
    return {};
  }
  const unsigned char* after = content + length;
  *p = enter ? content : after;
  return ByteView(start, static_cast<size_t>(after - start));
}

}  // namespace

StatusOr<CertificateParts> SplitCertificate(ByteView der) {
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + der.size();
  ByteView outer = NextElement(&p, end, V_ASN1_SEQUENCE, true);
  if (outer.size() != der.size()) {
    return Status(Code::kInternal, "certificate DER is not exactly one SEQUENCE");
  }
  CertificateParts parts;
  parts.tbs = NextElement(&p, end, V_ASN1_SEQUENCE, false);
  ByteView algorithm = NextElement(&p, end, V_ASN1_SEQUENCE, false);
  const unsigned char* bits_start = p;
  ByteView bits = NextElement(&p, end, V_ASN1_BIT_STRING, true);
  if (parts.tbs.empty() || algorithm.empty() || bits.empty()) {
    return Status(Code::kInternal, "certificate DER does not hold TBS, algorithm and signature");
  }
  // `p` is now at the BIT STRING's content: one unused-bits byte (0), then the signature.
  size_t header = static_cast<size_t>(p - bits_start);
  if (bits.size() < header + 1 || *p != 0 || bits.data() + bits.size() != end) {
    return Status(Code::kInternal, "certificate signature BIT STRING is malformed");
  }
  parts.signature = ByteView(p + 1, bits.size() - header - 1);
  return parts;
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
