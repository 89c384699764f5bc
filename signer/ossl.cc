#include "signer/ossl.h"

#include <openssl/err.h>

#include <string>

namespace signet::ossl {

Status Error(std::string_view call, Code code) {
  std::string message(call);
  unsigned long err = ERR_get_error();
  if (err == 0) {
    message += ": failed (no OpenSSL error queued)";
  }
  while (err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    message += ": ";
    message += buf;
    err = ERR_get_error();
  }
  return Status(code, message);
}

StatusOr<PkeyPtr> ParsePublicKey(ByteView spki_der) {
  const unsigned char* p = spki_der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (key == nullptr) {
    return Error("d2i_PUBKEY", Code::kInvalidArgument);
  }
  if (p != spki_der.data() + spki_der.size()) {
    return Status(Code::kInvalidArgument, "d2i_PUBKEY: trailing bytes after the public key");
  }
  return key;
}

StatusOr<Bytes> PublicKeyDer(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) {
    return Error("i2d_PUBKEY");
  }
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(key, &p) != len) {
    return Error("i2d_PUBKEY");
  }
  return out;
}

const EVP_MD* DigestFor(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256: {
      static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
      return sha256 != nullptr ? sha256 : EVP_sha256();
    }
    case HashAlgorithm::kSha384: {
      static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
      return sha384 != nullptr ? sha384 : EVP_sha384();
    }
    case HashAlgorithm::kNone:
      return nullptr;
  }
  return nullptr;
}

}  // namespace signet::ossl
