// PKCS#10 certificate signing requests, as far as signet trusts them.
//
// A CSR proves that its sender holds the private key of the public key it
// carries (its self-signature). That proof and that public key are all signet
// takes from it: subject, extensions (including any basicConstraints CA=true)
// and attributes are ignored, because the SPIFFE ID, lifetime and extensions of
// an X.509-SVID come from the request and policy.
//
// Thread safety: free functions on values.
#pragma once

#include <string_view>

#include "signer/ossl.h"
#include "signer/status.h"

namespace signet {

// Parses a PEM or DER CSR, checks its signature with its own public key and that
// the key is an accepted type (P-256, P-384, Ed25519, RSA >= 2048). Returns the
// checked request, whose SubjectPublicKeyInfo (X509_REQ_get_X509_PUBKEY) is the key to
// certify. kInvalidArgument naming the failed step otherwise.
StatusOr<ossl::X509ReqPtr> CheckCsr(std::string_view pem_or_der);

}  // namespace signet
