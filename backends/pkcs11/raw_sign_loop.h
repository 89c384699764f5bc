// RawSignLoopRate: the ceiling a PKCS#11 token sets for signet, measured without signet.
//
// Opens one session on the token, logs in, and calls C_SignInit + C_Sign (CKM_ECDSA over a
// fixed SHA-256 digest) back to back for `seconds` on the calling thread. signet-bench uses
// it as the limit a SoftHSM-backed signetd is compared with; it lives here so that no
// CK_* type leaves this folder.
//
// Thread safety: a blocking call; loads the module like any other caller in this process.
#pragma once

#include <string>

#include "signer/secret.h"
#include "signer/status.h"

namespace signet::pkcs11 {

// Signatures per second on one session for the EC private key named by `key_uri` (a
// `pkcs11:` URI with token= and id= or object=). Errors name the PKCS#11 call that failed.
StatusOr<double> RawSignLoopRate(const std::string& module_path, const std::string& key_uri,
                                 const Secret& pin, double seconds);

}  // namespace signet::pkcs11
