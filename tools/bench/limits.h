// The reference loops signet-bench compares signetd with: the same cryptographic work done
// in-process, on the calling thread, with nothing of signet's around it (no IPC, no policy,
// no verification after signing, no audit). Each returns operations per second.
//
//   jwt     ES256 JWT: build header.claims (fresh iat, exp, jti), EVP_DigestSign, base64url
//   digest  EVP_DigestSign with a P-256 key over a 32-byte input
//   x509    parse and verify a P-256 CSR, build and sign an X.509-SVID with a P-256 CA key
//   csign   C_SignInit + C_Sign on a PKCS#11 token, one session (backends/pkcs11)
//
// Thread safety: blocking calls; run them pinned to the core to measure (taskset).
#pragma once

#include <string>

#include "signer/status.h"

namespace signet::bench {

StatusOr<double> JwtLoopRate(double seconds);
StatusOr<double> DigestLoopRate(double seconds);
StatusOr<double> X509LoopRate(double seconds);

}  // namespace signet::bench
