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
#include "signer/status.h"

namespace signet {

struct SvidTemplate {
  std::string spiffe_id;
  EVP_PKEY* subject_key = nullptr;  // borrowed: the CSR's public key
  TimePoint not_before{};
  TimePoint not_after{};
};

struct UnsignedCertificate {
  ossl::X509Ptr cert;
  std::string serial_hex;
};

// Builds the TBS of an X.509-SVID issued by `issuer` (which must carry a subject key id).
StatusOr<UnsignedCertificate> BuildSvid(const SvidTemplate& tmpl, X509* issuer);

// Parses a signed SVID and checks signature, issuer, SAN, extensions, key, serial and
// validity against what was built. kInternal (or kDeviceError for a bad signature)
// when anything differs: such a certificate must never leave the process.
Status CheckSvid(ByteView der, X509* issuer, const SvidTemplate& tmpl,
                 const std::string& serial_hex);

}  // namespace signet
