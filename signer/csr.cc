#include "signer/csr.h"

#include <openssl/pem.h>

#include "signer/x509_sign.h"

namespace signet {

StatusOr<ossl::X509ReqPtr> CheckCsr(std::string_view pem_or_der) {
  if (pem_or_der.empty()) {
    return Status(Code::kInvalidArgument, "CSR is empty");
  }

  ossl::X509ReqPtr req;
  if (pem_or_der.find("-----BEGIN") != std::string_view::npos) {
    ossl::BioPtr bio(BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size())));
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) {
      return ossl::Error("CSR is not a PEM certificate request: PEM_read_bio_X509_REQ",
                         Code::kInvalidArgument);
    }
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
    const unsigned char* end = p + pem_or_der.size();
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(pem_or_der.size())));
    if (!req || p != end) {
      return ossl::Error("CSR is not a DER certificate request: d2i_X509_REQ",
                         Code::kInvalidArgument);
    }
  }

  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    return ossl::Error("CSR public key cannot be read: X509_REQ_get0_pubkey",
                       Code::kInvalidArgument);
  }
  StatusOr<Algorithm> alg = AlgorithmForKey(key);
  if (!alg.ok()) {
    return Status(Code::kInvalidArgument, "CSR key refused: " + alg.status().message());
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    return ossl::Error(
        "CSR signature does not verify with its own public key (no proof of "
        "possession): X509_REQ_verify",
        Code::kInvalidArgument);
  }

  return req;
}

}  // namespace signet
