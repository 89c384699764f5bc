// Pieces KeyManager's source files share; not part of the public API.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "signer/key_manager.h"

namespace signet {

struct KeyManager::Impl {
  Options options;
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<CatalogueStore> store;
  std::map<std::string, Backend*, std::less<>> backends;
  Minter* minter = nullptr;

  std::mutex mu;  // serialises operations; guards `catalogue` and `loaded`
  Catalogue catalogue;
  std::map<std::string, std::shared_ptr<SigningKey>, std::less<>> loaded;  // by kid

  mutable std::mutex noted_mu;  // guards the two maps below; never held across I/O
  std::map<std::string, TimePoint, std::less<>> noted;  // kid -> latest expiry reported
  std::map<std::string, std::string, std::less<>> kid_by_skid;

  // Everything below expects `mu` held.
  StatusOr<Backend*> FindBackend(std::string_view name) const;
  StatusOr<std::shared_ptr<SigningKey>> Load(const KeyRecord& record);

  // Reloads the catalogue from the store, merges noted expiries, applies
  // `change`, saves (compare-and-swap, retried on a concurrent save) when the
  // result differs, and republishes. `change` must be pure: it may run twice.
  Status Mutate(const std::function<Status(Catalogue&)>& change);

  // Builds the KeySet from `catalogue` and hands it to the Minter.
  Status Publish();

  // Generates a key in its device and returns its (unsaved) record, state prepared.
  StatusOr<KeyRecord> NewKey(Purpose purpose, Algorithm alg, std::string_view backend, CaRole role,
                             std::string_view by);

  // Adds a prepared record and saves it.
  StatusOr<KeyTransitionRecord> AddPrepared(KeyRecord record, std::string_view reason);

  StatusOr<std::vector<KeyTransitionRecord>> ActivateLocked(std::string_view kid,
                                                            std::string_view by,
                                                            std::string_view reason);
  StatusOr<KeyTransitionRecord> DestroyLocked(std::string_view kid, bool force, std::string_view by,
                                              std::string_view reason);
  StatusOr<KeyTransitionRecord> IssueIntermediateLocked(Algorithm alg, std::string_view backend,
                                                        const CaCertificateSpec& spec,
                                                        std::string_view by,
                                                        std::string_view reason);
  StatusOr<KeyTransitionRecord> PrepareLocked(Purpose purpose, Algorithm alg,
                                              std::string_view backend, std::string_view by,
                                              std::string_view reason);
};

namespace key_manager_internal {

// Moves `record` to `to`, appending to its history and to `out`.
void Transition(KeyRecord& record, KeyState to, TimePoint at, std::string_view by,
                std::string_view reason, std::vector<KeyTransitionRecord>* out);

// The active key of a purpose (for x509-ca, of a CA role), or nullptr.
KeyRecord* FindActive(Catalogue& catalogue, Purpose purpose, CaRole role);

// The CA role rotation applies to for a purpose: intermediates for x509-ca.
CaRole RoleFor(Purpose purpose);

// The most recently prepared key of a purpose and role, or nullptr.
KeyRecord* FindNewestPrepared(Catalogue& catalogue, Purpose purpose, CaRole role);

}  // namespace key_manager_internal
}  // namespace signet
