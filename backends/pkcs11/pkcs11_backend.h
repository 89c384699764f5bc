// Pkcs11Backend: keys inside a PKCS#11 token (an HSM, a smart card, SoftHSM2).
//
// Private keys are generated in the token and never leave it (CKA_SENSITIVE,
// not CKA_EXTRACTABLE). Keys are named by RFC 7512 `pkcs11:` URIs
// (pkcs11:token=...;object=<label>;id=<CKA_ID>;type=private); GenerateKey returns
// one and LoadKey accepts it. The PIN comes from a SecretSource (an environment
// variable or a 0600 file), never from configuration text.
//
// Signing runs on a BatchExecutor. Each worker owns one PKCS#11 session (a pool
// sized to min(workers, what the token allows)), so signers never serialise on a
// shared session. A session the module closed, a logged-out token or a device
// error is recovered by reopening that worker's session, logging in again and
// retrying the request once. A rejected PIN is never retried: retries would lock
// the token. Every signature is verified with the public key in software before
// it is returned.
//
// The module is loaded with dlopen and driven through its own CK_FUNCTION_LIST
// rather than through libp11: libp11 0.4.12 exposes no function list, generates
// only RSA keys and fails to enumerate any key of a token holding an Ed25519 key.
//
// Lifetime: the backend must outlive every SigningKey it returned; destroying it
// finishes queued signatures, closes the sessions and, when it is the module's
// last user in the process, finalises the module.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "signer/backend.h"
#include "signer/secret.h"
#include "signer/signature_check.h"

namespace signet {

class Pkcs11Backend : public Backend {
 public:
  struct Options {
    std::string module_path;   // e.g. /usr/lib/softhsm/libsofthsm2.so
    std::string token_label;   // the token, by label ...
    std::string token_serial;  // ... or by serial number when the label is empty
    SecretSource pin;          // the user PIN's source; never the PIN itself
    size_t workers = 2;        // wanted signing sessions; capped by the token's limits
    size_t max_batch = 64;
    CheckRate check_rate;  // which signatures are verified before they are returned
  };

  // Loads the module, finds the token, logs in and opens the session pool.
  // kNotFound naming the module path or the token, kWrongPin, kPinLocked, or the
  // SecretSource's error for a PIN file others can read.
  static StatusOr<std::unique_ptr<Pkcs11Backend>> Create(Options options);

  ~Pkcs11Backend() override;

  std::string_view name() const override { return "pkcs11"; }
  Capabilities capabilities() const override;
  size_t queue_depth() const override;
  StatusOr<std::shared_ptr<SigningKey>> GenerateKey(const KeySpec& spec) override;
  StatusOr<std::shared_ptr<SigningKey>> LoadKey(std::string_view ref) override;
  Status DestroyKey(std::string_view ref) override;

  // Signing sessions in the pool.
  size_t session_pool_size() const;

  // How many times a lost session was reopened (a health signal for metrics).
  uint64_t sessions_reopened() const;

  struct Impl;

 private:
  explicit Pkcs11Backend(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace signet
