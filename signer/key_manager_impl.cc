// KeyManager's internals: loading, saving, publishing, and the steps every operation shares.
#include "signer/key_manager.h"

#include <openssl/rand.h>

#include <ctime>

#include "signer/key_manager_internal.h"
#include "signer/ossl.h"
#include "signer/x509_sign.h"

namespace signet {

using key_manager_internal::FindActive;
using key_manager_internal::FindNewestPrepared;
using key_manager_internal::Transition;

namespace key_manager_internal {

void Transition(KeyRecord& record, KeyState to, TimePoint at, std::string_view by,
                std::string_view reason, std::vector<KeyTransitionRecord>* out) {
  std::optional<KeyState> from;
  if (!record.history.empty()) {
    from = record.state;
  }
  record.state = to;
  record.history.push_back({to, at, std::string(by), std::string(reason)});
  if (out != nullptr) {
    out->push_back({record.kid, record.purpose, record.ca_role, from, to, at, std::string(by),
                    std::string(reason)});
  }
}

KeyRecord* FindActive(Catalogue& catalogue, Purpose purpose, CaRole role) {
  for (KeyRecord& k : catalogue.keys) {
    if (k.purpose == purpose && k.ca_role == role && k.state == KeyState::kActive) {
      return &k;
    }
  }
  return nullptr;
}

KeyRecord* FindNewestPrepared(Catalogue& catalogue, Purpose purpose, CaRole role) {
  KeyRecord* newest = nullptr;
  for (KeyRecord& k : catalogue.keys) {
    if (k.purpose == purpose && k.ca_role == role && k.state == KeyState::kPrepared) {
      newest = &k;  // keys are appended in creation order
    }
  }
  return newest;
}

CaRole RoleFor(Purpose purpose) {
  return purpose == Purpose::kX509Ca ? CaRole::kIntermediate : CaRole::kNone;
}

}  // namespace key_manager_internal

namespace {

// "<purpose>[-<role>]-<UTC time>-<8 hex>", also used as the backend label.
StatusOr<std::string> NewKid(Purpose purpose, CaRole role, TimePoint now) {
  std::time_t t = static_cast<std::time_t>(UnixSeconds(now));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
  uint8_t random[4];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return Status(Code::kInternal, "RAND_bytes failed while naming a key");
  }
  std::string kid(PurposeName(purpose));
  if (role != CaRole::kNone) {
    kid += "-" + std::string(CaRoleName(role));
  }
  return kid + "-" + when + "-" + HexEncode(random);
}

}  // namespace

StatusOr<Backend*> KeyManager::Impl::FindBackend(std::string_view name) const {
  auto it = backends.find(name);
  if (it == backends.end()) {
    std::string known;
    for (const auto& [n, b] : backends) {
      known += (known.empty() ? "" : ", ") + n;
    }
    return Status(Code::kNotFound,
                  "no backend named '" + std::string(name) + "' (configured: " + known + ")");
  }
  return it->second;
}

StatusOr<std::shared_ptr<SigningKey>> KeyManager::Impl::Load(const KeyRecord& record) {
  auto it = loaded.find(record.kid);
  if (it != loaded.end()) {
    return it->second;
  }
  SIGNET_ASSIGN_OR_RETURN(Backend * backend, FindBackend(record.backend));
  StatusOr<std::shared_ptr<SigningKey>> key = backend->LoadKey(record.backend_ref);
  if (!key.ok()) {
    return key.status().WithContext("loading key '" + record.kid + "': ");
  }
  if ((*key)->public_key().spki_der != record.spki_der) {
    return Status(Code::kFailedPrecondition, "loading key '" + record.kid + "': the key at '" +
                                                 record.backend_ref +
                                                 "' is not the one in the catalogue");
  }
  loaded.emplace(record.kid, *key);
  return key;
}

Status KeyManager::Impl::Mutate(const std::function<Status(Catalogue&)>& change) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    SIGNET_ASSIGN_OR_RETURN(Catalogue current, store->Load());
    std::string before = CatalogueToJson(current);
    Catalogue next = current;
    {
      std::lock_guard<std::mutex> lock(noted_mu);
      for (const auto& [kid, exp] : noted) {
        KeyRecord* k = next.Find(kid);
        if (k != nullptr && (!k->latest_signed_expiry || *k->latest_signed_expiry < exp)) {
          k->latest_signed_expiry = exp;
        }
      }
    }
    SIGNET_RETURN_IF_ERROR(change(next));

    if (CatalogueToJson(next) == before) {
      catalogue = std::move(next);
      return Publish();
    }
    Status saved = store->CompareAndSwap(current.version, next);
    if (saved.code() == Code::kFailedPrecondition && attempt < kAttempts) {
      continue;  // someone else saved in between: reapply to what they saved
    }
    SIGNET_RETURN_IF_ERROR(saved);
    catalogue = std::move(next);
    return Publish();
  }
}

Status KeyManager::Impl::Publish() {
  if (minter == nullptr) {
    return OkStatus();  // offline (a custodian tool): load keys only when an operation needs one
  }
  KeySet keys;
  TimePoint now = clock->Now();
  std::map<std::string, std::string, std::less<>> skids;
  for (const KeyRecord& k : catalogue.keys) {
    if (k.state == KeyState::kDestroyed) {
      continue;
    }
    if (k.ca_role == CaRole::kRoot) {
      keys.x509_roots.push_back(k.cert_der);
      continue;
    }
    bool signs = k.state == KeyState::kActive;
    bool published = k.state == KeyState::kPrepared ||
                     (k.state == KeyState::kRetired && k.HasUnexpiredCredentials(now));
    if (!signs && !(published && k.purpose == Purpose::kJwt)) {
      continue;
    }
    SIGNET_ASSIGN_OR_RETURN(std::shared_ptr<SigningKey> key, Load(k));
    SIGNET_ASSIGN_OR_RETURN(Backend * backend, FindBackend(k.backend));
    bool verifies = backend->capabilities().verifies_signatures;
    switch (k.purpose) {
      case Purpose::kJwt:
        if (!signs) {
          keys.published_jwt.push_back({k.kid, key, verifies});
        } else if (!keys.access_token) {
          keys.access_token = JwtKey{k.kid, key, verifies};
          if (k.algorithm != Algorithm::kEdDSA) {
            keys.jwt_svid = keys.access_token;
          }
        }
        break;
      case Purpose::kX509Ca:
        if (!keys.x509_ca) {
          keys.x509_ca = X509Authority{key, k.cert_der, {}, verifies};
          SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr cert, ParseCertificate(k.cert_der));
          skids[SubjectKeyIdHex(cert.get())] = k.kid;
        }
        break;
      case Purpose::kRaw:
        keys.raw[k.kid] = RawKey{key, verifies};
        break;
      case Purpose::kAudit:
        break;  // the audit log asks ActiveKey(kAudit)
    }
  }
  {
    std::lock_guard<std::mutex> lock(noted_mu);
    for (auto& [skid, kid] : skids) {
      kid_by_skid[skid] = kid;
    }
  }
  if (minter != nullptr) {
    minter->SetKeys(std::move(keys));
  }
  return OkStatus();
}

StatusOr<KeyRecord> KeyManager::Impl::NewKey(Purpose purpose, Algorithm alg,
                                             std::string_view backend_name, CaRole role,
                                             std::string_view by) {
  SIGNET_ASSIGN_OR_RETURN(Backend * backend, FindBackend(backend_name));
  if (purpose == Purpose::kX509Ca && !backend->capabilities().hardware &&
      !options.allow_software_ca) {
    return Status(Code::kPermissionDenied,
                  "x509-ca keys must live in hardware: backend '" + std::string(backend_name) +
                      "' keeps keys in process memory (allow_software_ca overrides this)");
  }
  TimePoint now = clock->Now();
  SIGNET_ASSIGN_OR_RETURN(std::string kid, NewKid(purpose, role, now));

  KeySpec spec;
  spec.algorithm = alg;
  spec.label = kid;
  spec.purpose = purpose;
  StatusOr<std::shared_ptr<SigningKey>> key = backend->GenerateKey(spec);
  if (!key.ok()) {
    return key.status().WithContext("generating " + std::string(PurposeName(purpose)) +
                                    " key in backend '" + std::string(backend_name) + "': ");
  }
  loaded.emplace(kid, *key);

  KeyRecord record;
  record.kid = kid;
  record.purpose = purpose;
  record.algorithm = alg;
  record.backend = std::string(backend_name);
  record.backend_ref = (*key)->ref();
  record.spki_der = (*key)->public_key().spki_der;
  record.ca_role = role;
  auto rule = options.rotation.find(purpose);
  record.not_after =
      now + (rule != options.rotation.end() ? rule->second.lifetime : RotationRule{}.lifetime);
  Transition(record, KeyState::kPrepared, now, by, "", nullptr);
  return record;
}

StatusOr<KeyTransitionRecord> KeyManager::Impl::AddPrepared(KeyRecord record,
                                                            std::string_view reason) {
  record.history.back().reason = std::string(reason);
  KeyTransitionRecord out{
      record.kid,          record.purpose,           record.ca_role,           std::nullopt,
      KeyState::kPrepared, record.history.back().at, record.history.back().by, std::string(reason)};
  SIGNET_RETURN_IF_ERROR(Mutate([&](Catalogue& c) -> Status {
    c.keys.push_back(record);
    return OkStatus();
  }));
  return out;
}

StatusOr<KeyTransitionRecord> KeyManager::Impl::PrepareLocked(Purpose purpose, Algorithm alg,
                                                              std::string_view backend,
                                                              std::string_view by,
                                                              std::string_view reason) {
  if (purpose == Purpose::kX509Ca) {
    CaCertificateSpec spec = options.intermediate_spec;
    auto rule = options.rotation.find(purpose);
    if (rule != options.rotation.end()) {
      spec.ttl = rule->second.lifetime;
    }
    return IssueIntermediateLocked(alg, backend, spec, by, reason);
  }
  SIGNET_ASSIGN_OR_RETURN(KeyRecord record, NewKey(purpose, alg, backend, CaRole::kNone, by));
  return AddPrepared(std::move(record), reason);
}

StatusOr<std::vector<KeyTransitionRecord>> KeyManager::Impl::ActivateLocked(
    std::string_view kid, std::string_view by, std::string_view reason) {
  std::vector<KeyTransitionRecord> records;
  TimePoint now = clock->Now();
  Seconds bound = options.max_credential_ttl;
  SIGNET_RETURN_IF_ERROR(Mutate([&](Catalogue& c) -> Status {
    records.clear();
    KeyRecord* k = c.Find(kid);
    if (k == nullptr) {
      return Status(Code::kNotFound, "no key '" + std::string(kid) + "' in the catalogue");
    }
    if (k->state != KeyState::kPrepared) {
      return Status(Code::kFailedPrecondition, "key '" + k->kid + "' is " +
                                                   std::string(KeyStateName(k->state)) +
                                                   "; only a prepared key can be activated");
    }
    if (k->ca_role != CaRole::kNone && k->not_after <= now) {
      return Status(Code::kFailedPrecondition,
                    "key '" + k->kid + "': its CA certificate has expired");
    }
    if (k->purpose != Purpose::kRaw) {
      KeyRecord* old = FindActive(c, k->purpose, k->ca_role);
      if (old != nullptr) {
        TimePoint floor = now + bound;
        if (!old->latest_signed_expiry || *old->latest_signed_expiry < floor) {
          old->latest_signed_expiry = floor;
        }
        Transition(*old, KeyState::kRetired, now, by, reason, &records);
      }
    }
    k = c.Find(kid);
    Transition(*k, KeyState::kActive, now, by, reason, &records);
    return OkStatus();
  }));
  return records;
}

StatusOr<KeyTransitionRecord> KeyManager::Impl::DestroyLocked(std::string_view kid, bool force,
                                                              std::string_view by,
                                                              std::string_view reason) {
  SIGNET_ASSIGN_OR_RETURN(Catalogue current, store->Load());
  const KeyRecord* k = current.Find(kid);
  if (k == nullptr) {
    return Status(Code::kNotFound, "no key '" + std::string(kid) + "' in the catalogue");
  }
  TimePoint now = clock->Now();
  if (k->state == KeyState::kDestroyed) {
    return Status(Code::kFailedPrecondition, "key '" + k->kid + "' is already destroyed");
  }
  if (k->state == KeyState::kActive) {
    return Status(Code::kFailedPrecondition,
                  "key '" + k->kid + "' is active; retire it (or activate another) first");
  }
  std::optional<TimePoint> noted_exp;
  {
    std::lock_guard<std::mutex> lock(noted_mu);
    auto it = noted.find(kid);
    if (it != noted.end()) {
      noted_exp = it->second;
    }
  }
  TimePoint latest =
      std::max(k->latest_signed_expiry.value_or(TimePoint{}), noted_exp.value_or(TimePoint{}));
  if (latest > now && !force) {
    return Status(Code::kFailedPrecondition,
                  "key '" + k->kid + "' signed credentials valid until " +
                      std::to_string(UnixSeconds(latest)) + " (unix seconds, " +
                      std::to_string(UnixSeconds(latest) - UnixSeconds(now)) +
                      "s from now); destroying it now breaks them (force to override)");
  }

  SIGNET_ASSIGN_OR_RETURN(Backend * backend, FindBackend(k->backend));
  Status destroyed = backend->DestroyKey(k->backend_ref);
  if (!destroyed.ok() && destroyed.code() != Code::kNotFound) {
    return destroyed.WithContext("destroying key '" + k->kid + "': ");
  }
  loaded.erase(std::string(kid));

  std::vector<KeyTransitionRecord> records;
  SIGNET_RETURN_IF_ERROR(Mutate([&](Catalogue& c) -> Status {
    records.clear();
    KeyRecord* r = c.Find(kid);
    if (r == nullptr || r->state == KeyState::kDestroyed) {
      return Status(Code::kFailedPrecondition, "key '" + std::string(kid) + "' changed meanwhile");
    }
    Transition(*r, KeyState::kDestroyed, now, by, force ? "forced" : reason, &records);
    return OkStatus();
  }));
  return records.front();
}

}  // namespace signet
