#include "tools/bench/limits.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>

#include "signer/bytes.h"
#include "signer/ossl.h"
#include "signer/signature.h"

namespace signet::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `one` back to back for `seconds`; operations per second, or the first failure.
StatusOr<double> Loop(double seconds, const std::function<Status()>& one) {
  Clock::time_point start = Clock::now();
  Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  long count = 0;
  while (Clock::now() < end) {
    SIGNET_RETURN_IF_ERROR(one());
    ++count;
  }
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

StatusOr<ossl::PkeyPtr> P256() {
  ossl::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    return ossl::Error("EVP_PKEY_Q_keygen");
  }
  return key;
}

StatusOr<Bytes> DigestSign(EVP_PKEY* key, ByteView input) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  uint8_t der[80];
  size_t length = sizeof(der);
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), der, &length, input.data(), input.size()) != 1) {
    return ossl::Error("EVP_DigestSign");
  }
  return Bytes(der, der + length);
}

}  // namespace

StatusOr<double> JwtLoopRate(double seconds) {
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr key, P256());
  const std::string header = Base64UrlEncode(AsBytes(R"({"alg":"ES256","kid":"k1","typ":"JWT"})"));
  return Loop(seconds, [&]() -> Status {
    uint8_t jti[16];
    RAND_bytes(jti, sizeof(jti));
    long now = static_cast<long>(std::time(nullptr));
    char claims[512];
    std::snprintf(claims, sizeof(claims),
                  R"({"sub":"spiffe://example.org/workload/bench","aud":["https://api.example.)"
                  R"(org"],"iat":%ld,"exp":%ld,"iss":"https://127.0.0.1:7444","jti":"%s"})",
                  now, now + 300, HexEncode(ByteView(jti, sizeof(jti))).c_str());
    std::string input = header + "." + Base64UrlEncode(AsBytes(claims));
    SIGNET_ASSIGN_OR_RETURN(Bytes der, DigestSign(key.get(), AsBytes(input)));
    SIGNET_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, 32));
    std::string token = input + "." + Base64UrlEncode(raw);
    return token.size() > input.size() ? OkStatus() : Status(Code::kInternal, "empty JWT");
  });
}

StatusOr<double> DigestLoopRate(double seconds) {
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr key, P256());
  uint8_t digest[32];
  RAND_bytes(digest, sizeof(digest));
  return Loop(seconds, [&]() -> Status {
    return DigestSign(key.get(), ByteView(digest, sizeof(digest))).status();
  });
}

StatusOr<double> X509LoopRate(double seconds) {
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr ca_key, P256());
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr leaf_key, P256());

  // A CSR, DER, as a caller would send it.
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, leaf_key.get());
  X509_REQ_sign(req, leaf_key.get(), EVP_sha256());
  unsigned char* csr_der = nullptr;
  int csr_len = i2d_X509_REQ(req, &csr_der);
  X509_REQ_free(req);
  Bytes csr(csr_der, csr_der + csr_len);
  OPENSSL_free(csr_der);

  X509_NAME* issuer = X509_NAME_new();
  X509_NAME_add_entry_by_txt(issuer, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench"), -1, -1, 0);

  StatusOr<double> rate = Loop(seconds, [&]() -> Status {
    const unsigned char* p = csr.data();
    X509_REQ* parsed = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()));
    EVP_PKEY* subject_key = parsed == nullptr ? nullptr : X509_REQ_get0_pubkey(parsed);
    if (subject_key == nullptr || X509_REQ_verify(parsed, subject_key) != 1) {
      X509_REQ_free(parsed);
      return ossl::Error("X509_REQ_verify");
    }
    X509* cert = X509_new();
    uint8_t serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_set_version(cert, X509_VERSION_3);
    X509_set_issuer_name(cert, issuer);
    X509_gmtime_adj(X509_getm_notBefore(cert), -30);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, subject_key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, nullptr, cert, nullptr, nullptr, 0);
    const char* extensions[][2] = {
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,digitalSignature"},
        {"extendedKeyUsage", "serverAuth,clientAuth"},
        {"subjectAltName", "critical,URI:spiffe://example.org/workload/bench"}};
    for (auto& [name, value] : extensions) {
      X509_EXTENSION* ext = X509V3_EXT_conf(nullptr, &ctx, name, value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    int signed_len = X509_sign(cert, ca_key.get(), EVP_sha256());
    unsigned char* der = nullptr;
    int der_len = i2d_X509(cert, &der);
    OPENSSL_free(der);
    X509_free(cert);
    X509_REQ_free(parsed);
    return signed_len > 0 && der_len > 0 ? OkStatus() : ossl::Error("X509_sign");
  });
  X509_NAME_free(issuer);
  return rate;
}

}  // namespace signet::bench
