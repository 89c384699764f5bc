// Reading back what a certificate says, for the checks signet runs on every
// certificate it produces before releasing it.
//
// Thread safety: free functions; the X509 is only read.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "signer/clock.h"
#include "signer/status.h"

namespace signet {

struct CertificateFacts {
  std::vector<std::string> uri_sans;
  size_t san_count = 0;  // every GeneralName in subjectAltName, URIs or not
  bool san_critical = false;
  bool has_basic_constraints = false;
  bool basic_constraints_critical = false;
  bool ca = false;
  long path_length = -1;  // -1: absent
  bool has_key_usage = false;
  bool key_usage_critical = false;
  uint32_t key_usage = 0;           // KU_* bits
  uint32_t extended_key_usage = 0;  // XKU_* bits; 0 when absent
  std::string subject_key_id_hex;
  std::string authority_key_id_hex;
  std::string serial_hex;
  TimePoint not_before{};
  TimePoint not_after{};
};

StatusOr<CertificateFacts> InspectCertificate(X509* cert);

// OK when `cert` is signed by `issuer`'s key and names it as issuer.
Status CheckIssuedBy(X509* cert, X509* issuer);

}  // namespace signet
