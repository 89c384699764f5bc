#include "signer/key_manager.h"

#include "signer/key_manager_internal.h"

namespace signet {

using key_manager_internal::FindActive;
using key_manager_internal::FindNewestPrepared;
using key_manager_internal::RoleFor;
using key_manager_internal::Transition;

KeyManager::KeyManager(Options options, std::shared_ptr<const Clock> clock,
                       std::shared_ptr<CatalogueStore> store, std::vector<Backend*> backends,
                       Minter* minter)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->clock = std::move(clock);
  impl_->store = std::move(store);
  for (Backend* b : backends) {
    impl_->backends.emplace(std::string(b->name()), b);
  }
  impl_->minter = minter;
}

KeyManager::KeyManager(Options options, std::shared_ptr<const Clock> clock,
                       std::shared_ptr<CatalogueStore> store,
                       std::map<std::string, Backend*> backends, Minter* minter)
    : KeyManager(std::move(options), std::move(clock), std::move(store), std::vector<Backend*>{},
                 minter) {
  for (auto& [name, backend] : backends) {
    impl_->backends.emplace(name, backend);
  }
}

KeyManager::~KeyManager() = default;

Status KeyManager::Open() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Mutate([](Catalogue&) { return OkStatus(); });
}

StatusOr<std::vector<KeyTransitionRecord>> KeyManager::Tick() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  std::vector<KeyTransitionRecord> records;
  SIGNET_RETURN_IF_ERROR(m.Mutate([](Catalogue&) { return OkStatus(); }));
  const std::string& actor = m.options.rotation_actor;

  for (const auto& [purpose, rule] : m.options.rotation) {
    if (purpose == Purpose::kRaw) {
      continue;
    }
    CaRole role = RoleFor(purpose);
    KeyRecord* active = FindActive(m.catalogue, purpose, role);
    std::optional<TimePoint> active_end;
    if (active != nullptr) {
      active_end = active->not_after;
    }
    bool has_prepared = FindNewestPrepared(m.catalogue, purpose, role) != nullptr;
    RotationStep step = NextRotationStep(rule, active_end, has_prepared, m.clock->Now());
    if (step == RotationStep::kNone) {
      continue;
    }
    if (!has_prepared) {
      SIGNET_ASSIGN_OR_RETURN(
          KeyTransitionRecord r,
          m.PrepareLocked(purpose, rule.algorithm, rule.backend, actor, "scheduled"));
      records.push_back(std::move(r));
    }
    if (step == RotationStep::kActivate) {
      std::string kid = FindNewestPrepared(m.catalogue, purpose, role)->kid;
      SIGNET_ASSIGN_OR_RETURN(std::vector<KeyTransitionRecord> r,
                              m.ActivateLocked(kid, actor, "scheduled"));
      records.insert(records.end(), r.begin(), r.end());
    }
  }

  if (m.options.destroy_expired_keys) {
    TimePoint now = m.clock->Now();
    std::vector<std::string> expired;
    for (const KeyRecord& k : m.catalogue.keys) {
      if (k.state == KeyState::kRetired && k.ca_role != CaRole::kRoot &&
          !k.HasUnexpiredCredentials(now)) {
        expired.push_back(k.kid);
      }
    }
    for (const std::string& kid : expired) {
      SIGNET_ASSIGN_OR_RETURN(KeyTransitionRecord r,
                              m.DestroyLocked(kid, false, actor, "everything it signed expired"));
      records.push_back(std::move(r));
    }
  }
  return records;
}

StatusOr<KeyTransitionRecord> KeyManager::Generate(Purpose purpose, Algorithm alg,
                                                   std::string_view backend, std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->PrepareLocked(purpose, alg, backend, by, "requested");
}

StatusOr<std::vector<KeyTransitionRecord>> KeyManager::Rotate(Purpose purpose,
                                                              std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  SIGNET_RETURN_IF_ERROR(m.Mutate([](Catalogue&) { return OkStatus(); }));
  RotationRule rule;
  auto configured = m.options.rotation.find(purpose);
  const KeyRecord* active = FindActive(m.catalogue, purpose, RoleFor(purpose));
  if (configured != m.options.rotation.end()) {
    rule = configured->second;
  } else if (active != nullptr) {
    rule.algorithm = active->algorithm;
    rule.backend = active->backend;
  } else {
    return Status(Code::kFailedPrecondition, "no rotation rule and no active key for purpose '" +
                                                 std::string(PurposeName(purpose)) +
                                                 "': generate a key first");
  }

  std::vector<KeyTransitionRecord> records;
  SIGNET_ASSIGN_OR_RETURN(KeyTransitionRecord prepared,
                          m.PrepareLocked(purpose, rule.algorithm, rule.backend, by, "forced"));
  records.push_back(prepared);
  SIGNET_ASSIGN_OR_RETURN(std::vector<KeyTransitionRecord> activated,
                          m.ActivateLocked(prepared.kid, by, "forced"));
  records.insert(records.end(), activated.begin(), activated.end());
  return records;
}

StatusOr<std::vector<KeyTransitionRecord>> KeyManager::Activate(std::string_view kid,
                                                                std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ActivateLocked(kid, by, "requested");
}

StatusOr<KeyTransitionRecord> KeyManager::Retire(std::string_view kid, std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  TimePoint now = impl_->clock->Now();
  Seconds bound = impl_->options.max_credential_ttl;
  std::vector<KeyTransitionRecord> records;
  SIGNET_RETURN_IF_ERROR(impl_->Mutate([&](Catalogue& c) -> Status {
    records.clear();
    KeyRecord* k = c.Find(kid);
    if (k == nullptr) {
      return Status(Code::kNotFound, "no key '" + std::string(kid) + "' in the catalogue");
    }
    if (k->state != KeyState::kActive && k->state != KeyState::kPrepared) {
      return Status(Code::kFailedPrecondition, "key '" + k->kid + "' is " +
                                                   std::string(KeyStateName(k->state)) +
                                                   "; only a prepared or active key retires");
    }
    if (k->state == KeyState::kActive &&
        (!k->latest_signed_expiry || *k->latest_signed_expiry < now + bound)) {
      k->latest_signed_expiry = now + bound;
    }
    Transition(*k, KeyState::kRetired, now, by, "requested", &records);
    return OkStatus();
  }));
  return records.front();
}

StatusOr<KeyTransitionRecord> KeyManager::Destroy(std::string_view kid, bool force,
                                                  std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->DestroyLocked(kid, force, by, "requested");
}

void KeyManager::NoteIssued(std::string_view kid, TimePoint expires_at) {
  std::lock_guard<std::mutex> lock(impl_->noted_mu);
  std::string key(kid);
  auto by_skid = impl_->kid_by_skid.find(kid);
  if (by_skid != impl_->kid_by_skid.end()) {
    key = by_skid->second;
  }
  auto [it, inserted] = impl_->noted.emplace(key, expires_at);
  if (!inserted && it->second < expires_at) {
    it->second = expires_at;
  }
}

Catalogue KeyManager::Snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Catalogue copy = impl_->catalogue;
  std::lock_guard<std::mutex> noted_lock(impl_->noted_mu);
  for (KeyRecord& k : copy.keys) {
    auto it = impl_->noted.find(k.kid);
    if (it != impl_->noted.end() &&
        (!k.latest_signed_expiry || *k.latest_signed_expiry < it->second)) {
      k.latest_signed_expiry = it->second;
    }
  }
  return copy;
}

StatusOr<std::shared_ptr<SigningKey>> KeyManager::ActiveKey(Purpose purpose) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  KeyRecord* k = FindActive(impl_->catalogue, purpose, RoleFor(purpose));
  if (k == nullptr) {
    return Status(Code::kNotFound,
                  "no active key for purpose '" + std::string(PurposeName(purpose)) + "'");
  }
  return impl_->Load(*k);
}

}  // namespace signet
