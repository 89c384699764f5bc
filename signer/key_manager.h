// KeyManager: the keys of a signet instance through their whole lifecycle.
//
// The KeyManager owns the key catalogue (through a CatalogueStore), generates
// keys through the backends it is given, loads them by reference, and keeps the
// Minter's KeySet equal to the catalogue: active keys sign; prepared keys and
// retired keys whose credentials may still be valid are published (JWKS,
// bundle); root certificates are published as X.509 authorities. Every change
// is saved to the store first and then handed to Minter::SetKeys.
//
// Tick() applies the rotation rule (signer/rotation.h) to every purpose that
// has a RotationRule, and drops retired keys once nothing they signed is valid
// (destroying them in the device when configured). Custodians force each step
// with Generate, Rotate, Activate, Retire and Destroy. The CA ceremony is
// InitRoot (root key and self-signed certificate) and IssueIntermediate (an
// intermediate key certified by the active root); intermediates then rotate
// like any other key, and X.509-SVIDs are always issued by the active one.
//
// Every transition returns a KeyTransitionRecord carrying what an audit record
// needs (kid, purpose, from, to, when, who); the caller appends it to the log.
//
// "Latest expiry signed": the Minter reports each credential through
// Minter::Options::on_issued, which the owner wires to NoteIssued(). Those
// reports are kept in memory and saved at the next Tick or transition. Because
// a crash may lose the last of them, retiring a key also records
// retired_at + max_credential_ttl as a lower bound, so no restart drops a key
// while something it signed may still be valid.
//
// Lifetime: the backends, the store and the Minter (optional: null for offline
// tools) must outlive the KeyManager.
// Thread safety: all methods may be called from any thread. Operations are
// serialised; NoteIssued never waits for a device or a disk.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signer/backend.h"
#include "signer/ca.h"
#include "signer/clock.h"
#include "signer/key_catalogue.h"
#include "signer/minter.h"
#include "signer/rotation.h"
#include "signer/status.h"

namespace signet {

// One lifecycle transition, for the audit log.
struct KeyTransitionRecord {
  std::string kid;
  Purpose purpose = Purpose::kJwt;
  CaRole ca_role = CaRole::kNone;
  std::optional<KeyState> from;  // empty for a newly generated key
  KeyState to = KeyState::kPrepared;
  TimePoint at{};
  std::string by;
  std::string reason;
};

// A key that already exists in a device (named in a config file) or, for a root CA whose
// key is kept offline, only a certificate: what KeyManager::Import adds to the catalogue.
struct ImportedKey {
  std::string kid;
  Purpose purpose = Purpose::kJwt;
  std::string backend;                 // "" only for a root certificate without its key
  std::string backend_ref;             // what that backend's LoadKey accepts
  Bytes cert_der;                      // x509-ca: the key's CA certificate (self-signed for a root)
  KeyState state = KeyState::kActive;  // kActive or kPrepared
};

class KeyManager {
 public:
  struct Options {
    // Purposes Tick() rotates, with their lifetimes. kRaw keys are named, not
    // rotated, and are ignored here. kX509Ca rotates intermediates.
    std::map<Purpose, RotationRule> rotation;

    // The longest lifetime any credential is granted (the largest max_ttl in policy).
    Seconds max_credential_ttl{Seconds(3600)};

    // Tick() destroys retired keys in their device once nothing they signed is valid.
    bool destroy_expired_keys = false;

    // Lets x509-ca keys (root, intermediate) live in a backend whose keys are in
    // process memory. For development only.
    bool allow_software_ca = false;

    // Subject of the intermediates Tick() and Generate(kX509Ca) issue; the TTL
    // is the rotation rule's lifetime when there is one.
    CaCertificateSpec intermediate_spec;

    // Who automatic transitions are attributed to.
    std::string rotation_actor = "signet/rotation";
  };

  // `backends` by Backend::name(); `minter` may be null (offline tools).
  KeyManager(Options options, std::shared_ptr<const Clock> clock,
             std::shared_ptr<CatalogueStore> store, std::vector<Backend*> backends, Minter* minter);
  // The same, with backends under names of the owner's choosing (a config's backend
  // names), so that two backends of one kind (two tokens) can be told apart.
  KeyManager(Options options, std::shared_ptr<const Clock> clock,
             std::shared_ptr<CatalogueStore> store, std::map<std::string, Backend*> backends,
             Minter* minter);
  ~KeyManager();

  // Loads the catalogue and every key that signs or is published, and hands the
  // KeySet to the Minter. Fails naming the kid whose key could not be loaded.
  // Without a Minter (offline tools) keys are loaded only when an operation needs one.
  Status Open();

  // Applies the rotation rule and drops expired retired keys; returns what changed.
  StatusOr<std::vector<KeyTransitionRecord>> Tick();

  // Generates a key of `purpose` in `backend` and records it as prepared (and
  // published). For kX509Ca, an intermediate certified by the active root.
  StatusOr<KeyTransitionRecord> Generate(Purpose purpose, Algorithm alg, std::string_view backend,
                                         std::string_view by);

  // Prepares a new key of `purpose` with the rotation rule's algorithm and
  // backend (or those of the active key) and activates it at once.
  StatusOr<std::vector<KeyTransitionRecord>> Rotate(Purpose purpose, std::string_view by);

  // Makes a prepared key the signing key of its purpose; the previous active key
  // (except for raw keys, which are named and independent) is retired.
  StatusOr<std::vector<KeyTransitionRecord>> Activate(std::string_view kid, std::string_view by);

  // Stops a key signing; it stays published while what it signed is valid.
  StatusOr<KeyTransitionRecord> Retire(std::string_view kid, std::string_view by);

  // Removes a key from its device. Refused for an active key, and with
  // kFailedPrecondition while credentials it signed may be valid unless `force`.
  StatusOr<KeyTransitionRecord> Destroy(std::string_view kid, bool force, std::string_view by);

  // The CA ceremony, step one: a root key in `backend` and its self-signed
  // certificate. The new root is active; a previous active root is retired
  // (and stays in the bundle until destroyed).
  StatusOr<std::vector<KeyTransitionRecord>> InitRoot(Algorithm alg, std::string_view backend,
                                                      const CaCertificateSpec& spec,
                                                      std::string_view by);

  // Step two: an intermediate key in `backend`, certified by the active root,
  // recorded as prepared. Activate it (or let Tick) to issue X.509-SVIDs with it.
  StatusOr<KeyTransitionRecord> IssueIntermediate(Algorithm alg, std::string_view backend,
                                                  const CaCertificateSpec& spec,
                                                  std::string_view by);

  // Adds a key that exists outside the catalogue. Nothing happens (nullopt) when the kid is
  // already catalogued: from then on the catalogue decides its state. A key asked to be
  // active comes in prepared when its purpose (or CA role) already has an active key. Fails
  // when the key cannot be loaded or its certificate is not for it.
  StatusOr<std::optional<KeyTransitionRecord>> Import(const ImportedKey& key, std::string_view by);

  // A credential signed by `kid` (a catalogue kid, or a CA's subject key id in
  // hex as X.509 audit fields carry it) is valid until `expires_at`.
  void NoteIssued(std::string_view kid, TimePoint expires_at);

  // The catalogue as last loaded or saved (with noted expiries merged in).
  Catalogue Snapshot() const;

  // The signing key of a purpose (e.g. the audit key); kNotFound when none is active.
  StatusOr<std::shared_ptr<SigningKey>> ActiveKey(Purpose purpose) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signet
