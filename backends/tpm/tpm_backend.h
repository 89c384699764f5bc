// TpmBackend: signing keys kept in a TPM 2.0, reached through tpm2-tss ESAPI.
//
// Keys (ECC P-256 and P-384, RSA 2048 and, where the TPM offers it, 3072) are
// created inside the TPM under the storage root key with fixedTPM|fixedParent,
// so the private key never leaves it. The storage root key itself is not kept
// at a persistent handle: it is created again from the standard template each
// time the backend connects, which yields the same key from the owner seed (see
// tpm_device.h), so nothing needs provisioning. A key is kept either at a
// persistent handle in the TPM's NV memory or as its public and wrapped private
// blobs in a key file (mode 0600) that only this TPM can load; Options::storage
// decides for new keys and the key reference says which for each key:
//
//   tpm:label=jwt-1;blob=/var/lib/signet/tpm/jwt-1.tpmkey;alg=ES256
//   tpm:label=ca-1;handle=0x81000010;alg=PS256
//
// Each key has an authorization value, read like a PIN through a SecretSource
// when the key is generated or loaded. A wrong value fails with kWrongPin and is
// never retried: the key refuses to sign until it is loaded again, so that a
// flood of requests cannot walk the TPM into its dictionary-attack lockout.
//
// The TPM signs digests (TPM2_Sign): messages are hashed here first. Each
// signature is checked in software with the key's public key before it is
// returned. EdDSA is refused with kUnsupported: TPM 2.0 has no Ed25519.
//
// Commands are authorized through a salted HMAC session with parameter
// encryption by default, so neither the authorization value nor the digest
// crosses the bus in the clear; a plain password session can be chosen where
// the bus is trusted. One session is started per connection and reused.
//
// The TPM runs one command at a time: one worker owns the ESAPI context and
// drains queued requests back to back. When the TPM or its connection is lost,
// the requests it was running fail with kUnavailable (safe to retry) and the
// next request reconnects, reloads its key and goes on.
//
// Lifetime: the backend must outlive the SigningKeys it returned; destroying it
// completes every queued signature first.
//
// Thread safety: all methods may be called from any thread. GenerateKey,
// LoadKey and DestroyKey wait for the TPM worker; never call them from a
// network thread or from a SignCallback (which runs on that worker).
//
// Not yet: silencing tpm2-tss's own stderr logging, which only the TSS2_LOG
// environment variable controls in tpm2-tss 3.2 (signetd should set it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "signer/backend.h"
#include "signer/secret.h"
#include "signer/signature_check.h"

namespace signet {

class TpmBackend : public Backend {
 public:
  enum class Session { kHmac, kPassword };
  enum class Storage { kBlobFile, kPersistentHandle };

  struct Options {
    // Handed to Tss2_TctiLdr_Initialize: "device:/dev/tpmrm0", "tabrmd",
    // "swtpm:host=127.0.0.1,port=2321".
    std::string tcti = "device:/dev/tpmrm0";
    Session session = Session::kHmac;
    Storage storage = Storage::kBlobFile;

    // Key files (blob storage) and label records (persistent storage) live here.
    // Required for blob storage; with persistent storage and no directory, labels
    // are only known to this process.
    std::string key_dir;

    // Persistent handles are allocated from here up (0x81000001 is left for an SRK).
    uint32_t first_persistent_handle = 0x81000010;

    // Authorization values: `key_auth_by_label` for a key when it has an entry,
    // `key_auth` otherwise. A key with neither cannot be generated or loaded.
    SecretSource key_auth;
    std::map<std::string, SecretSource> key_auth_by_label;

    // The owner hierarchy's authorization; neither source set means empty.
    SecretSource owner_auth;

    // Transient key slots the backend may fill. swtpm and a TPM reached without a
    // resource manager have three object slots, one taken by the SRK.
    size_t max_loaded_keys = 2;
    size_t max_batch = 64;
    CheckRate check_rate;  // which signatures are verified before they are returned
  };

  // Connects to the TPM and creates the storage root key; fails (kUnavailable
  // when the TPM cannot be reached) without leaving a backend behind.
  static StatusOr<std::unique_ptr<TpmBackend>> Open(Options options);

  ~TpmBackend() override;

  std::string_view name() const override { return "tpm"; }
  Capabilities capabilities() const override;
  size_t queue_depth() const override;
  StatusOr<std::shared_ptr<SigningKey>> GenerateKey(const KeySpec& spec) override;
  StatusOr<std::shared_ptr<SigningKey>> LoadKey(std::string_view ref) override;
  Status DestroyKey(std::string_view ref) override;

  struct Impl;

 private:
  explicit TpmBackend(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace signet
