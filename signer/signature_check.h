// The check after signing: which signatures of one key are verified with its public
// key before they leave signet, and the verification itself.
//
// A signature that does not verify means the device (or this process) computed
// something other than what the key signs: a failing device, a key handle that
// names another key, a fault. The rule, per algorithm (docs/decisions.md, "The
// check after signing"):
//
//   - RSA (PS256, RS256) and EdDSA: every signature. One faulty RSA-CRT signature
//     reveals the private key, and EdDSA's deterministic nonce lets one faulty
//     signature and one good one over the same input do the same. An RSA verify
//     costs a small fraction of the signature.
//   - ECDSA (ES256, ES384): the first signature of every SignatureCheck, then each
//     signature with probability 1 / `ecdsa_one_in`, drawn at random so that no one
//     can tell which signatures are checked. After a failure, every signature until
//     `kStrictAfterFailure` more have been checked. A P-256 verify costs three
//     signatures; the known fault attacks on ECDSA with a random nonce need many
//     faulty signatures, and a relying party rejects each bad one. Sampling still
//     finds a failing device within about `ecdsa_one_in` signatures.
//
// Every signature, checked or not, must have the size its format allows.
//
// Thread safety: Check() may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>

#include "signer/signature.h"

namespace signet {

struct CheckRate {
  // ECDSA signatures are verified with probability 1 / ecdsa_one_in; 1 checks all. At 64 the
  // check costs about 5 % of the signatures it guards (a P-256 verify costs three signatures).
  uint32_t ecdsa_one_in = 64;
};

class SignatureCheck {
 public:
  static constexpr uint64_t kStrictAfterFailure = 1000;

  SignatureCheck(SignatureVerifier verifier, CheckRate rate);

  // OK when `signature` passed the check, or was not chosen for it and has a
  // plausible size. kDeviceError when it does not verify (see VerifySignature).
  Status Check(const SignRequest& request, ByteView signature) const;

  // Signatures verified so far (for tests and metrics).
  uint64_t verified() const { return verified_.load(std::memory_order_relaxed); }

 private:
  bool ShouldVerify() const;

  SignatureVerifier verifier_;
  CheckRate rate_;
  mutable std::atomic<uint64_t> seen_{0};
  mutable std::atomic<uint64_t> verified_{0};
  mutable std::atomic<uint64_t> strict_until_{0};  // verify all while seen_ is below
};

}  // namespace signet
