// The key backend interface: where private keys live and how they sign.
//
// A Backend generates keys inside its device (or in memory, for the software
// backend), loads keys by reference, destroys them, and hands out SigningKey
// objects. A SigningKey signs asynchronously: Sign() queues the work on the
// backend's own executor and returns at once, so a network thread never waits
// on a device. Private key material never crosses this interface.
//
// Key references are strings that LoadKey accepts back: an RFC 7512 `pkcs11:`
// URI, a `tpm:` handle or blob path, a `software:` file path. The catalogue
// stores them; nothing outside a backend parses them.
//
// Lifetime: a Backend must outlive every SigningKey it returned. Destroying a
// Backend completes every queued signature (with kUnavailable if the device is
// gone) before it returns.
//
// Thread safety: every method of Backend and SigningKey may be called from any
// thread at any time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "signer/algorithm.h"
#include "signer/bytes.h"
#include "signer/status.h"

namespace signet {

// What a key is used for. Purposes never share a key.
enum class Purpose { kJwt, kX509Ca, kRaw, kAudit };

// "jwt", "x509-ca", "raw", "audit".
std::string_view PurposeName(Purpose purpose);
StatusOr<Purpose> ParsePurpose(std::string_view name);

// What to generate.
struct KeySpec {
  Algorithm algorithm = Algorithm::kES256;
  int rsa_bits = 2048;  // RSA algorithms only: 2048 or 3072
  std::string label;    // unique within the backend: [A-Za-z0-9._-], 1 to 64 characters
  Purpose purpose = Purpose::kJwt;
};

// Checks a spec before any device is touched: label syntax, RSA size.
Status ValidateKeySpec(const KeySpec& spec);

// A public key as DER SubjectPublicKeyInfo; JWK and PEM forms are derived from it.
struct PublicKey {
  Bytes spki_der;
};

// ECDSA signature encodings. Ignored for RSA and EdDSA, whose signatures have one form.
enum class SignatureFormat {
  kRaw,  // r || s, each left-padded to the curve size (JOSE, RFC 7518 section 3.4)
  kDer,  // ASN.1 SEQUENCE { r INTEGER, s INTEGER } (X.509, CMS)
};

struct SignRequest {
  Bytes input;                   // the message, or its digest when input_is_digest
  bool input_is_digest = false;  // EdDSA keys refuse digests: Ed25519 signs messages
  SignatureFormat format = SignatureFormat::kRaw;
};

// Called exactly once with the signature or the reason there is none. It runs on
// a backend thread: keep it short and never block in it.
using SignCallback = std::function<void(StatusOr<Bytes>)>;

class SigningKey {
 public:
  SigningKey(std::string ref, Algorithm algorithm, PublicKey public_key)
      : ref_(std::move(ref)), algorithm_(algorithm), public_key_(std::move(public_key)) {}
  virtual ~SigningKey() = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // The reference that LoadKey accepts to find this key again.
  const std::string& ref() const { return ref_; }
  Algorithm algorithm() const { return algorithm_; }
  const PublicKey& public_key() const { return public_key_; }

  // Queues a signature and returns at once; `done` runs later on a backend thread. A
  // backend whose signature is only CPU work in this process may instead sign on the
  // calling thread and run `done` before returning (the software backend with no worker
  // threads), so a caller must not hold a lock that `done` takes. Bad input (a digest of
  // the wrong size, a digest for an EdDSA key) is reported through `done` like any other
  // error.
  virtual void Sign(SignRequest request, SignCallback done) = 0;

  // Signs and waits for the result. For tools, tests and start-up code; never
  // call it from a network thread.
  StatusOr<Bytes> SignAndWait(SignRequest request);

 private:
  std::string ref_;
  Algorithm algorithm_;
  PublicKey public_key_;
};

struct Capabilities {
  std::vector<Algorithm> algorithms;   // what GenerateKey and LoadKey accept
  size_t max_parallel_signatures = 1;  // signatures the device runs at once
  bool hardware = false;               // keys live in a device, not in process memory
  bool verifies_signatures = false;    // every signature is checked before it is returned
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "software", "pkcs11", "tpm".
  virtual std::string_view name() const = 0;

  virtual Capabilities capabilities() const = 0;

  // Signatures queued and not yet started, for metrics; 0 for a backend without a queue.
  virtual size_t queue_depth() const { return 0; }

  // Generates a key pair inside the backend. The private key is never
  // extractable. Fails with kAlreadyExists when the label is taken and
  // kUnsupported for an algorithm the backend does not offer.
  virtual StatusOr<std::shared_ptr<SigningKey>> GenerateKey(const KeySpec& spec) = 0;

  // Finds a key by the reference GenerateKey gave it; kNotFound when absent.
  virtual StatusOr<std::shared_ptr<SigningKey>> LoadKey(std::string_view ref) = 0;

  // Removes the key from the device for good. Keys already loaded stop signing.
  virtual Status DestroyKey(std::string_view ref) = 0;
};

}  // namespace signet
