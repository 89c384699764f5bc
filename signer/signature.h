// Signature helpers every backend shares: input checks, hashing, ECDSA encodings
// and software verification of what a device returned.
#pragma once

#include <openssl/types.h>

#include <memory>

#include "signer/algorithm.h"
#include "signer/backend.h"
#include "signer/bytes.h"
#include "signer/status.h"

namespace signet {

// Checks a request against a key's algorithm before it is queued: a digest must
// have the hash's size, an EdDSA key refuses digests, a message must not be empty.
Status CheckSignRequest(Algorithm alg, const SignRequest& request);

// Hashes `message` with the algorithm's hash; kInvalidArgument for EdDSA.
StatusOr<Bytes> ComputeDigest(Algorithm alg, ByteView message);

// The digest a request asks to sign: the input itself, or its hash.
StatusOr<Bytes> DigestToSign(Algorithm alg, const SignRequest& request);

// r || s (each `coordinate_size` bytes) to DER, and back.
StatusOr<Bytes> EcdsaRawToDer(ByteView raw);
StatusOr<Bytes> EcdsaDerToRaw(ByteView der, size_t coordinate_size);

// Converts an ECDSA signature held as r || s into the format the request asked for;
// other algorithms pass through unchanged.
StatusOr<Bytes> FormatFromRaw(Algorithm alg, SignatureFormat format, Bytes raw);

// Converts an ECDSA signature held as DER into the requested format.
StatusOr<Bytes> FormatFromDer(Algorithm alg, SignatureFormat format, Bytes der);

// Verifies `signature` (in the request's format) over the request's input with the
// public key. OK only when the signature is valid; kDeviceError when it is not, since
// a bad signature from a key we hold means the device misbehaved.
Status VerifySignature(const PublicKey& key, Algorithm alg, const SignRequest& request,
                       ByteView signature);

// A public key parsed once for verifying many signatures, as a backend does for
// every signature its device returns: in OpenSSL 3 parsing the DER costs several
// times more than the verification itself. Verify() behaves as VerifySignature().
//
// Thread safety: Verify() may be called from several threads at once.
class SignatureVerifier {
 public:
  static StatusOr<SignatureVerifier> Create(const PublicKey& key, Algorithm alg);

  // A verifier for a key already parsed (a certificate's, say); takes a reference on it.
  static SignatureVerifier ForKey(EVP_PKEY* key, Algorithm alg);

  Status Verify(const SignRequest& request, ByteView signature) const;

  Algorithm algorithm() const { return alg_; }

 private:
  SignatureVerifier(std::shared_ptr<EVP_PKEY> pkey, Algorithm alg)
      : pkey_(std::move(pkey)), alg_(alg) {}

  std::shared_ptr<EVP_PKEY> pkey_;
  Algorithm alg_;
};

}  // namespace signet
