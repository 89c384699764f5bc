// Opens the backends a signetd config names and loads its keys by reference.
//
// This is the one place that names concrete backends (software, pkcs11, tpm); everything
// after it sees only signer/backend.h. Secrets (PINs, TPM auth values) are read here from
// their SecretSource and handed to the backend; they are never logged.
//
// Lifetime: a KeyRing owns the backends; every SigningKey it hands out must be dropped before
// the KeyRing is destroyed.
// Thread safety: build once at start-up; const access afterwards is safe from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "signer/backend.h"
#include "signer/status.h"
#include "tools/signetd/config.h"

namespace signet {

// Opens one backend. Errors name the backend and what failed (module load, token not found,
// wrong PIN) with the device's own code kept in Status::raw_code. Device backends check their
// signatures at `check_rate`.
StatusOr<std::unique_ptr<Backend>> OpenBackend(const BackendConfig& config, CheckRate check_rate);

struct LoadedKey {
  const KeyConfig* config = nullptr;
  std::shared_ptr<SigningKey> key;
  bool backend_verifies = false;  // its backend checks every signature before returning it
};

class KeyRing {
 public:
  // Opens every backend and loads every key in `config` (which must outlive the KeyRing).
  // Logs backend_ready, key_loaded and backend_error events.
  static StatusOr<std::unique_ptr<KeyRing>> Open(const DaemonConfig& config);

  ~KeyRing();

  const LoadedKey* Find(const std::string& kid) const;
  const std::map<std::string, LoadedKey>& keys() const { return keys_; }
  const std::map<std::string, std::unique_ptr<Backend>>& backends() const { return backends_; }

 private:
  KeyRing() = default;

  std::map<std::string, std::unique_ptr<Backend>> backends_;
  std::map<std::string, LoadedKey> keys_;  // by kid; declared after backends_: dropped first
};

}  // namespace signet
