// Key pairs inside a PKCS#11 token: generating them, reading their public half as
// SubjectPublicKeyInfo, telling which signet algorithm they belong to, and the one
// raw signing call.
//
// Every private key signet generates is a token object with CKA_SENSITIVE=true,
// CKA_EXTRACTABLE=false, CKA_PRIVATE=true and CKA_SIGN=true, carrying a CKA_LABEL
// and a random CKA_ID shared with its public key. CKA_ALLOWED_MECHANISMS binds it
// to the one mechanism of its algorithm, so an RS256 key cannot be made to sign
// PSS (and the binding is how LoadKey tells RS256 from PS256 keys apart).
//
// Thread safety: functions over a Session, which one thread uses at a time.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

#include "backends/pkcs11/module.h"
#include "signer/algorithm.h"
#include "signer/backend.h"
#include "signer/bytes.h"
#include "signer/status.h"

namespace signet::pkcs11 {

struct KeyPair {
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
};

// The mechanism that generates keys for `alg`, and the one that signs with them.
CK_MECHANISM_TYPE GenerationMechanism(Algorithm alg);
CK_MECHANISM_TYPE SigningMechanism(Algorithm alg);

// Generates a key pair in the token with C_GenerateKeyPair (needs a read-write,
// logged-in session).
StatusOr<KeyPair> GenerateKeyPair(Session& session, const KeySpec& spec, const Bytes& id);

// The public key object's value as DER SubjectPublicKeyInfo, built with OpenSSL from
// CKA_EC_PARAMS/CKA_EC_POINT or CKA_MODULUS/CKA_PUBLIC_EXPONENT.
StatusOr<Bytes> PublicKeySpki(Session& session, CK_OBJECT_HANDLE public_key, Algorithm alg);

// The algorithm a private key signs with, from its CKA_KEY_TYPE, CKA_EC_PARAMS and
// CKA_ALLOWED_MECHANISMS. kUnsupported for a key signet cannot use.
StatusOr<Algorithm> AlgorithmOf(Session& session, CK_OBJECT_HANDLE private_key);

// The one key object of class `klass` (CKO_PRIVATE_KEY, CKO_PUBLIC_KEY) with this
// CKA_ID and CKA_LABEL (either may be empty: not matched). kNotFound when there is
// none, kInvalidArgument when several match.
StatusOr<CK_OBJECT_HANDLE> FindKey(Session& session, CK_OBJECT_CLASS klass, const Bytes& id,
                                   const std::string& label);

// One C_SignInit + C_Sign over the request's input: the digest for ECDSA and RSA
// (hashed here when the request holds a message), the message for EdDSA. ECDSA
// signatures come back as r || s, the form PKCS#11 returns.
StatusOr<Bytes> SignRaw(Session& session, CK_OBJECT_HANDLE private_key, Algorithm alg,
                        const SignRequest& request);

}  // namespace signet::pkcs11
