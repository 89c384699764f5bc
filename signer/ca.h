// CA certificates: a self-signed root whose key lives in a backend, and
// intermediates signed by a root (or by another intermediate).
//
// Both carry basicConstraints CA=true (critical) with a path length constraint,
// keyUsage keyCertSign and cRLSign (critical), subject and authority key ids,
// and, when a trust domain is given, the trust domain's SPIFFE ID (no path) as
// the one URI SAN. The signature is made by the issuer's key through its
// backend; these calls block and are meant for the custodian's ceremony, not
// for the request path. The result is checked (signature, extensions) before
// it is returned.
//
// Thread safety: free functions; safe from any thread except a backend worker.
#pragma once

#include <string>

#include "signer/backend.h"
#include "signer/bytes.h"
#include "signer/clock.h"
#include "signer/status.h"

namespace signet {

struct CaCertificateSpec {
  std::string common_name;   // subject CN, required
  std::string organization;  // subject O, optional
  std::string trust_domain;  // optional: adds URI SAN spiffe://<trust_domain>
  Seconds ttl{Seconds(365 * 24 * 3600)};
  int path_length = -1;  // -1: no pathLenConstraint; otherwise its value
};

// A self-signed root certificate (DER) for `key`.
StatusOr<Bytes> CreateRootCertificate(SigningKey& key, const CaCertificateSpec& spec,
                                      const Clock& clock);

// An intermediate CA certificate (DER) for `subject_key`, signed by `issuer_key`
// whose certificate is `issuer_cert_der`. notAfter is capped by the issuer's own.
StatusOr<Bytes> CreateIntermediateCertificate(SigningKey& issuer_key, ByteView issuer_cert_der,
                                              const PublicKey& subject_key,
                                              const CaCertificateSpec& spec, const Clock& clock);

}  // namespace signet
