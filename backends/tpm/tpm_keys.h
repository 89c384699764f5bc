// TPM key material as data: templates for the storage root key and for signing
// keys, the conversion of a TPM public area to a SubjectPublicKeyInfo, of a
// TPMT_SIGNATURE to the bytes JOSE and X.509 expect, and the key file that keeps
// a key's public and private blobs between runs.
//
// A key file is "STK1" followed by the TPM2B_PUBLIC and the TPM2B_PRIVATE, each
// marshalled with tss2-mu. The private blob is wrapped by the storage root key:
// it is useless outside the TPM that created it. Files are written with mode
// 0600 through a rename, so a crash leaves the old file or the new one.
//
// Thread safety: pure functions.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "signer/algorithm.h"
#include "signer/bytes.h"
#include "signer/status.h"

namespace signet::tpm {

// The storage root key: an ECC P-256 restricted decryption key under the owner
// hierarchy with the TCG provisioning guidance's template (AES-128-CFB, all-zero
// unique field), so that every TPM2_CreatePrimary with it yields the same key.
TPM2B_PUBLIC SrkTemplate();

// A signing key for `alg`: fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|
// sign, unrestricted, with the algorithm's scheme and hash bound into the key.
// kUnsupported for EdDSA (TPM 2.0 has no Ed25519) and RSA sizes other than
// 2048 and 3072.
StatusOr<TPM2B_PUBLIC> SigningKeyTemplate(Algorithm alg, int rsa_bits);

// Checks that a public area loaded from a handle or a file is a signing key of
// the kind `alg` names; kInvalidArgument naming `what` otherwise.
Status CheckSigningKey(const TPMT_PUBLIC& pub, Algorithm alg, const std::string& what);

// The DER SubjectPublicKeyInfo of an ECC or RSA public area.
StatusOr<Bytes> SpkiFromPublic(const TPMT_PUBLIC& pub);

// The signature as signet returns it before formatting: r || s (each padded to
// the curve size) for ECDSA, the signature bytes for RSA.
StatusOr<Bytes> SignatureBytes(const TPMT_SIGNATURE& sig, Algorithm alg);

struct KeyBlobs {
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
};

StatusOr<Bytes> MarshalKeyFile(const KeyBlobs& blobs);
StatusOr<KeyBlobs> UnmarshalKeyFile(ByteView file, const std::string& path);

// Reads a whole file; kNotFound when it does not exist.
StatusOr<Bytes> ReadWholeFile(const std::string& path);

}  // namespace signet::tpm
