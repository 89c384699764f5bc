// Bringing keys made outside the catalogue (a config's [[key]] entries) under its care.
#include <openssl/x509v3.h>

#include "signer/key_manager.h"
#include "signer/key_manager_internal.h"
#include "signer/x509_sign.h"

namespace signet {

using key_manager_internal::FindActive;
using key_manager_internal::Transition;

namespace {

// Fills the public key, algorithm, CA role and end of life of `record` from its certificate.
Status FromCertificate(KeyRecord& record) {
  SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr cert, ParseCertificate(record.cert_der));
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr) {
    return Status(Code::kInvalidArgument, "its certificate has no usable public key");
  }
  SIGNET_ASSIGN_OR_RETURN(Bytes spki, ossl::PublicKeyDer(key));
  if (!record.spki_der.empty() && spki != record.spki_der) {
    return Status(Code::kInvalidArgument, "its certificate is for another key");
  }
  record.spki_der = std::move(spki);
  SIGNET_ASSIGN_OR_RETURN(record.algorithm, AlgorithmForKey(key));
  bool self_signed = X509_check_issued(cert.get(), cert.get()) == X509_V_OK;
  record.ca_role = self_signed ? CaRole::kRoot : CaRole::kIntermediate;
  SIGNET_ASSIGN_OR_RETURN(record.not_after, NotAfter(cert.get()));
  return OkStatus();
}

}  // namespace

StatusOr<std::optional<KeyTransitionRecord>> KeyManager::Import(const ImportedKey& key,
                                                                std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  SIGNET_RETURN_IF_ERROR(m.Mutate([](Catalogue&) { return OkStatus(); }));
  if (m.catalogue.Find(key.kid) != nullptr) {
    return std::optional<KeyTransitionRecord>();
  }
  auto fail = [&](const Status& s) { return s.WithContext("importing key '" + key.kid + "': "); };

  KeyRecord record;
  record.kid = key.kid;
  record.purpose = key.purpose;
  record.backend = key.backend;
  record.backend_ref = key.backend_ref;
  record.cert_der = key.cert_der;
  TimePoint now = m.clock->Now();
  if (!key.backend.empty()) {
    StatusOr<Backend*> backend = m.FindBackend(key.backend);
    StatusOr<std::shared_ptr<SigningKey>> loaded =
        backend.ok() ? (*backend)->LoadKey(key.backend_ref) : backend.status();
    if (!loaded.ok()) {
      return fail(loaded.status());
    }
    record.algorithm = (*loaded)->algorithm();
    record.spki_der = (*loaded)->public_key().spki_der;
    m.loaded.emplace(key.kid, *loaded);
  }
  if (key.purpose == Purpose::kX509Ca) {
    Status cert = FromCertificate(record);
    if (!cert.ok()) {
      return fail(cert);
    }
  } else {
    auto rule = m.options.rotation.find(key.purpose);
    record.not_after =
        now + (rule != m.options.rotation.end() ? rule->second.lifetime : RotationRule{}.lifetime);
  }
  if (record.backend.empty() && record.ca_role != CaRole::kRoot) {
    return fail(Status(Code::kInvalidArgument, "only a root certificate may come without a key"));
  }

  KeyState state = key.state;
  if (state == KeyState::kActive && key.purpose != Purpose::kRaw &&
      FindActive(m.catalogue, key.purpose, record.ca_role) != nullptr) {
    state = KeyState::kPrepared;  // the catalogue's signer stays; this one is published
  }
  std::vector<KeyTransitionRecord> out;
  Transition(record, state, now, by, "imported", &out);
  SIGNET_RETURN_IF_ERROR(m.Mutate([&](Catalogue& c) -> Status {
    if (c.Find(record.kid) == nullptr) {
      c.keys.push_back(record);
    }
    return OkStatus();
  }));
  return std::optional<KeyTransitionRecord>(out.front());
}

}  // namespace signet
