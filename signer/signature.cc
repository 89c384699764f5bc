#include "signer/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <string>

#include "signer/ossl.h"

namespace signet {

Status CheckSignRequest(Algorithm alg, const SignRequest& request) {
  if (!request.input_is_digest) {
    return OkStatus();
  }
  if (alg == Algorithm::kEdDSA) {
    return Status(Code::kInvalidArgument,
                  "EdDSA (Ed25519) signs whole messages; a pre-computed digest cannot be signed");
  }
  if (request.input.size() != DigestSize(alg)) {
    return Status(Code::kInvalidArgument,
                  std::string(AlgorithmName(alg)) + " needs a " + std::to_string(DigestSize(alg)) +
                      "-byte digest, got " + std::to_string(request.input.size()) + " bytes");
  }
  return OkStatus();
}

StatusOr<Bytes> ComputeDigest(Algorithm alg, ByteView message) {
  const EVP_MD* md = ossl::DigestFor(HashOf(alg));
  if (md == nullptr) {
    return Status(Code::kInvalidArgument,
                  std::string(AlgorithmName(alg)) + " has no separate digest step");
  }
  Bytes out(static_cast<size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_Digest(message.data(), message.size(), out.data(), &len, md, nullptr) != 1) {
    return ossl::Error("EVP_Digest");
  }
  return out;
}

StatusOr<Bytes> DigestToSign(Algorithm alg, const SignRequest& request) {
  if (request.input_is_digest) {
    return request.input;
  }
  return ComputeDigest(alg, request.input);
}

StatusOr<Bytes> EcdsaRawToDer(ByteView raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return Status(Code::kInvalidArgument,
                  "raw ECDSA signature has odd length " + std::to_string(raw.size()));
  }
  size_t half = raw.size() / 2;
  ossl::BnPtr r(BN_bin2bn(raw.data(), static_cast<int>(half), nullptr));
  ossl::BnPtr s(BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return ossl::Error("ECDSA_SIG_set0");
  }
  r.release();
  s.release();

  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    return ossl::Error("i2d_ECDSA_SIG");
  }
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

StatusOr<Bytes> EcdsaDerToRaw(ByteView der, size_t coordinate_size) {
  const unsigned char* p = der.data();
  ossl::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    return Status(Code::kInvalidArgument, "ECDSA signature is not a well-formed DER SEQUENCE");
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  Bytes raw(coordinate_size * 2);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(coordinate_size)) < 0 ||
      BN_bn2binpad(s, raw.data() + coordinate_size, static_cast<int>(coordinate_size)) < 0) {
    return Status(Code::kInvalidArgument, "ECDSA signature component is larger than the curve");
  }
  return raw;
}

StatusOr<Bytes> FormatFromRaw(Algorithm alg, SignatureFormat format, Bytes raw) {
  if (FamilyOf(alg) != KeyFamily::kEc || format == SignatureFormat::kRaw) {
    return raw;
  }
  return EcdsaRawToDer(raw);
}

StatusOr<Bytes> FormatFromDer(Algorithm alg, SignatureFormat format, Bytes der) {
  if (FamilyOf(alg) != KeyFamily::kEc || format == SignatureFormat::kDer) {
    return der;
  }
  return EcdsaDerToRaw(der, EcCoordinateSize(alg));
}

namespace {

Status SetRsaPadding(EVP_PKEY_CTX* ctx, Algorithm alg) {
  if (alg == Algorithm::kPS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0) {
      return ossl::Error("EVP_PKEY_CTX_set_rsa_padding(PSS)");
    }
  } else if (alg == Algorithm::kRS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
      return ossl::Error("EVP_PKEY_CTX_set_rsa_padding(PKCS1)");
    }
  }
  return OkStatus();
}

}  // namespace

Status VerifySignature(const PublicKey& key, Algorithm alg, const SignRequest& request,
                       ByteView signature) {
  SIGNET_ASSIGN_OR_RETURN(SignatureVerifier verifier, SignatureVerifier::Create(key, alg));
  return verifier.Verify(request, signature);
}

StatusOr<SignatureVerifier> SignatureVerifier::Create(const PublicKey& key, Algorithm alg) {
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr pkey, ossl::ParsePublicKey(key.spki_der));
  return SignatureVerifier(std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free), alg);
}

SignatureVerifier SignatureVerifier::ForKey(EVP_PKEY* key, Algorithm alg) {
  EVP_PKEY_up_ref(key);
  return SignatureVerifier(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free), alg);
}

Status SignatureVerifier::Verify(const SignRequest& request, ByteView signature) const {
  EVP_PKEY* pkey = pkey_.get();
  Algorithm alg = alg_;

  Bytes der_sig;
  if (FamilyOf(alg) == KeyFamily::kEc && request.format == SignatureFormat::kRaw) {
    if (signature.size() != 2 * EcCoordinateSize(alg)) {
      return Status(Code::kDeviceError, "ECDSA signature has " + std::to_string(signature.size()) +
                                            " bytes, expected " +
                                            std::to_string(2 * EcCoordinateSize(alg)));
    }
    SIGNET_ASSIGN_OR_RETURN(der_sig, EcdsaRawToDer(signature));
    signature = der_sig;
  }

  int rc = 0;
  if (alg == Algorithm::kEdDSA) {
    ossl::MdCtxPtr md_ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(md_ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) {
      return ossl::Error("EVP_DigestVerifyInit");
    }
    rc = EVP_DigestVerify(md_ctx.get(), signature.data(), signature.size(), request.input.data(),
                          request.input.size());
  } else {
    SIGNET_ASSIGN_OR_RETURN(Bytes digest, DigestToSign(alg, request));
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey, nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), ossl::DigestFor(HashOf(alg))) <= 0) {
      return ossl::Error("EVP_PKEY_verify_init");
    }
    SIGNET_RETURN_IF_ERROR(SetRsaPadding(ctx.get(), alg));
    rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(),
                         digest.size());
  }

  if (rc != 1) {
    ERR_clear_error();
    return Status(Code::kDeviceError, std::string(AlgorithmName(alg)) +
                                          " signature from the backend does not verify with the "
                                          "key's public key");
  }
  return OkStatus();
}

}  // namespace signet
