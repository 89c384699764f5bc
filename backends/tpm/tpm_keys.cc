#include "backends/tpm/tpm_keys.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "backends/tpm/tss_status.h"
#include "signer/ossl.h"

namespace signet::tpm {
namespace {

constexpr char kMagic[4] = {'S', 'T', 'K', '1'};

constexpr TPMA_OBJECT kSigningKeyAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                              TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                              TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT;

using ParamBldPtr = ossl::Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = ossl::Ptr<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = ossl::PkeyCtxPtr;

TPMI_ALG_HASH TpmHash(Algorithm alg) {
  return HashOf(alg) == HashAlgorithm::kSha384 ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
}

Bytes LeftPad(const uint8_t* data, size_t size, size_t width) {
  Bytes out(std::max(width, size), 0);
  std::memcpy(out.data() + out.size() - size, data, size);
  return out;
}

StatusOr<Bytes> PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error(std::string("EVP_PKEY_fromdata(") + type + ")");
  }
  ossl::PkeyPtr pkey(raw);
  return ossl::PublicKeyDer(pkey.get());
}

}  // namespace

TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC tmpl{};
  TPMT_PUBLIC& p = tmpl.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.eccDetail.symmetric.keyBits.aes = 128;
  p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;  // zeros, as the provisioning guidance asks
  p.unique.ecc.y.size = 32;
  return tmpl;
}

StatusOr<TPM2B_PUBLIC> SigningKeyTemplate(Algorithm alg, int rsa_bits) {
  TPM2B_PUBLIC tmpl{};
  TPMT_PUBLIC& p = tmpl.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kSigningKeyAttributes;
  switch (alg) {
    case Algorithm::kES256:
    case Algorithm::kES384:
      p.type = TPM2_ALG_ECC;
      p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
      p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
      p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TpmHash(alg);
      p.parameters.eccDetail.curveID =
          alg == Algorithm::kES256 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
      p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
      return tmpl;
    case Algorithm::kRS256:
    case Algorithm::kPS256:
      if (rsa_bits != 2048 && rsa_bits != 3072) {
        return Status(Code::kUnsupported,
                      "TPM RSA keys are 2048 or 3072 bits, not " + std::to_string(rsa_bits));
      }
      p.type = TPM2_ALG_RSA;
      p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
      p.parameters.rsaDetail.scheme.scheme =
          alg == Algorithm::kRS256 ? TPM2_ALG_RSASSA : TPM2_ALG_RSAPSS;
      p.parameters.rsaDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
      p.parameters.rsaDetail.keyBits = static_cast<TPMI_RSA_KEY_BITS>(rsa_bits);
      p.parameters.rsaDetail.exponent = 0;  // the default, 65537
      return tmpl;
    case Algorithm::kEdDSA:
      break;
  }
  return Status(Code::kUnsupported, "the TPM backend does not offer " +
                                        std::string(AlgorithmName(alg)) +
                                        ": TPM 2.0 has no Ed25519 keys");
}

Status CheckSigningKey(const TPMT_PUBLIC& pub, Algorithm alg, const std::string& what) {
  auto wrong = [&](const std::string& why) {
    return Status(Code::kInvalidArgument,
                  what + " is not a TPM " + std::string(AlgorithmName(alg)) + " key: " + why);
  };
  if ((pub.objectAttributes & kSigningKeyAttributes) != kSigningKeyAttributes ||
      (pub.objectAttributes & TPMA_OBJECT_RESTRICTED) != 0) {
    return wrong("it lacks fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign");
  }
  switch (alg) {
    case Algorithm::kES256:
    case Algorithm::kES384: {
      TPMI_ECC_CURVE curve = alg == Algorithm::kES256 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
      if (pub.type != TPM2_ALG_ECC || pub.parameters.eccDetail.curveID != curve ||
          pub.parameters.eccDetail.scheme.scheme != TPM2_ALG_ECDSA ||
          pub.parameters.eccDetail.scheme.details.ecdsa.hashAlg != TpmHash(alg)) {
        return wrong("curve or scheme differs");
      }
      return OkStatus();
    }
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      TPMI_ALG_RSA_SCHEME scheme = alg == Algorithm::kRS256 ? TPM2_ALG_RSASSA : TPM2_ALG_RSAPSS;
      if (pub.type != TPM2_ALG_RSA || pub.parameters.rsaDetail.scheme.scheme != scheme ||
          pub.parameters.rsaDetail.scheme.details.anySig.hashAlg != TPM2_ALG_SHA256) {
        return wrong("scheme differs");
      }
      return OkStatus();
    }
    case Algorithm::kEdDSA:
      break;
  }
  return wrong("TPM 2.0 has no Ed25519 keys");
}

StatusOr<Bytes> SpkiFromPublic(const TPMT_PUBLIC& pub) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    return ossl::Error("OSSL_PARAM_BLD_new");
  }
  if (pub.type == TPM2_ALG_ECC) {
    const TPMS_ECC_PARMS& ecc = pub.parameters.eccDetail;
    const char* group = nullptr;
    size_t width = 0;
    if (ecc.curveID == TPM2_ECC_NIST_P256) {
      group = "P-256";
      width = 32;
    } else if (ecc.curveID == TPM2_ECC_NIST_P384) {
      group = "P-384";
      width = 48;
    } else {
      return Status(Code::kUnsupported,
                    "TPM ECC curve " + std::to_string(ecc.curveID) + " is not P-256 or P-384");
    }
    Bytes point = {0x04};
    Bytes x = LeftPad(pub.unique.ecc.x.buffer, pub.unique.ecc.x.size, width);
    Bytes y = LeftPad(pub.unique.ecc.y.buffer, pub.unique.ecc.y.size, width);
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return ossl::Error("OSSL_PARAM_BLD_push(EC)");
    }
    return PkeyFromParams("EC", bld.get());
  }
  if (pub.type == TPM2_ALG_RSA) {
    const TPM2B_PUBLIC_KEY_RSA& modulus = pub.unique.rsa;
    uint32_t exponent =
        pub.parameters.rsaDetail.exponent == 0 ? 65537 : pub.parameters.rsaDetail.exponent;
    ossl::BnPtr n(BN_bin2bn(modulus.buffer, modulus.size, nullptr));
    ossl::BnPtr e(BN_new());
    if (!n || !e || BN_set_word(e.get(), exponent) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return ossl::Error("OSSL_PARAM_BLD_push(RSA)");
    }
    return PkeyFromParams("RSA", bld.get());
  }
  return Status(Code::kUnsupported,
                "TPM key type " + std::to_string(pub.type) + " is neither ECC nor RSA");
}

StatusOr<Bytes> SignatureBytes(const TPMT_SIGNATURE& sig, Algorithm alg) {
  switch (FamilyOf(alg)) {
    case KeyFamily::kEc: {
      if (sig.sigAlg != TPM2_ALG_ECDSA) {
        break;
      }
      size_t width = EcCoordinateSize(alg);
      const TPMS_SIGNATURE_ECC& ecc = sig.signature.ecdsa;
      if (ecc.signatureR.size > width || ecc.signatureS.size > width) {
        return Status(Code::kDeviceError, "TPM ECDSA signature is larger than the curve");
      }
      Bytes out = LeftPad(ecc.signatureR.buffer, ecc.signatureR.size, width);
      Bytes s = LeftPad(ecc.signatureS.buffer, ecc.signatureS.size, width);
      out.insert(out.end(), s.begin(), s.end());
      return out;
    }
    case KeyFamily::kRsa: {
      if (sig.sigAlg != TPM2_ALG_RSASSA && sig.sigAlg != TPM2_ALG_RSAPSS) {
        break;
      }
      const TPM2B_PUBLIC_KEY_RSA& rsa = sig.signature.rsassa.sig;
      return Bytes(rsa.buffer, rsa.buffer + rsa.size);
    }
    case KeyFamily::kEd25519:
      break;
  }
  return Status(Code::kDeviceError, "TPM returned a signature of scheme " +
                                        std::to_string(sig.sigAlg) + " for an " +
                                        std::string(AlgorithmName(alg)) + " key");
}

StatusOr<Bytes> MarshalKeyFile(const KeyBlobs& blobs) {
  Bytes out(sizeof(kMagic) + sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE));
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  size_t offset = sizeof(kMagic);
  TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Marshal(&blobs.pub, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) {
    return TssError("Tss2_MU_TPM2B_PUBLIC_Marshal", rc);
  }
  rc = Tss2_MU_TPM2B_PRIVATE_Marshal(&blobs.priv, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) {
    return TssError("Tss2_MU_TPM2B_PRIVATE_Marshal", rc);
  }
  out.resize(offset);
  return out;
}

StatusOr<KeyBlobs> UnmarshalKeyFile(ByteView file, const std::string& path) {
  if (file.size() < sizeof(kMagic) || std::memcmp(file.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status(Code::kInvalidArgument, "TPM key file " + path + " does not start with STK1");
  }
  KeyBlobs blobs;
  size_t offset = sizeof(kMagic);
  TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(file.data(), file.size(), &offset, &blobs.pub);
  if (rc == TSS2_RC_SUCCESS) {
    rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(file.data(), file.size(), &offset, &blobs.priv);
  }
  if (rc != TSS2_RC_SUCCESS) {
    return TssError("Tss2_MU_Unmarshal(" + path + ")", rc).WithContext("TPM key file is damaged: ");
  }
  if (offset != file.size()) {
    return Status(Code::kInvalidArgument, "TPM key file " + path + " has trailing bytes");
  }
  return blobs;
}

StatusOr<Bytes> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kNotFound, "no TPM key file " + path);
  }
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace signet::tpm
