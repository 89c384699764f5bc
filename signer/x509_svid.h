// The X.509-SVID profile (SPIFFE X509-SVID spec): building the unsigned leaf
// certificate and checking a signed one before it is released.
//
// A leaf carries exactly one URI SAN (the SPIFFE ID), basicConstraints CA=false
// (critical), keyUsage digitalSignature only (critical), extendedKeyUsage
// serverAuth and clientAuth, subject and authority key ids, and a random
// 128-bit positive serial. Its subject is the fixed name O=signet: nothing is
// copied from the CSR.
//
// Thread safety: free functions; objects passed in are not shared while edited.
#pragma once

#include <openssl/x509.h>

#include <string>

#include "signer/clock.h"
#include "signer/ossl.h"
#include "signer/signature.h"
#include "signer/status.h"

namespace signet {

struct SvidTemplate {
  std::string spiffe_id;
  const X509_PUBKEY* subject_key = nullptr;  // borrowed: the CSR's SubjectPublicKeyInfo
  TimePoint not_before{};
  TimePoint not_after{};
};

struct UnsignedCertificate {
  ossl::X509Ptr cert;
  std::string serial_hex;
};

// Builds the TBS of an X.509-SVID issued by `issuer` (which must carry a subject key id).
StatusOr<UnsignedCertificate> BuildSvid(const SvidTemplate& tmpl, X509* issuer);

// Checks a signed SVID before it is released. `der` is the certificate to release,
// `cert` the object BuildSvid made and AttachSignature completed, `signed_tbs` the
// bytes the CA key signed. The TBSCertificate inside `der` must be `signed_tbs` and
// what `cert` encodes to; the signature inside `der` must verify with `issuer_key`
// (the issuing CA certificate's public key); and `cert` must name `issuer` and carry
// the SAN, extensions, key, serial and validity of `tmpl`. kInternal (kDeviceError for
// a bad signature) when anything differs: such a certificate must never leave the
// process. Nothing is decoded twice: `der` is checked against the parsed object
// instead of being parsed again, which in OpenSSL 3.0 costs more than the signature.
Status CheckSvid(ByteView der, ByteView signed_tbs, X509* cert, X509* issuer,
                 const SignatureVerifier& issuer_key, const SvidTemplate& tmpl,
                 const std::string& serial_hex);

}  // namespace signet
