#include "tools/common/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdio>

#include "signer/ossl.h"

namespace signet {

StatusOr<std::vector<Bytes>> ReadCertificatesPem(const std::string& path) {
  ossl::BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return Status(Code::kNotFound, path + ": cannot be read");
  }

  std::vector<Bytes> out;
  for (;;) {
    ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    int len = i2d_X509(cert.get(), nullptr);
    Bytes der(static_cast<size_t>(len));
    uint8_t* p = der.data();
    i2d_X509(cert.get(), &p);
    out.push_back(std::move(der));
  }
  unsigned long last = ERR_peek_last_error();
  bool clean_end = ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!clean_end && last != 0) {
    return Status(Code::kInvalidArgument, path + ": a CERTIFICATE block does not parse");
  }
  if (out.empty()) {
    return Status(Code::kInvalidArgument, path + ": holds no PEM certificate");
  }
  return out;
}

std::string CertificateToPem(ByteView der) {
  return PemEncode("CERTIFICATE", der);
}

std::string PublicKeyToPem(ByteView spki_der) {
  return PemEncode("PUBLIC KEY", spki_der);
}

bool IsSelfSigned(ByteView der) {
  const uint8_t* p = der.data();
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return false;
  }
  if (X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) != 0) {
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  bool ok = key != nullptr && X509_verify(cert.get(), key) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace signet
