// The CA ceremony: a root in hardware, intermediates certified by it.
#include "signer/key_manager.h"
#include "signer/key_manager_internal.h"
#include "signer/x509_sign.h"

namespace signet {

using key_manager_internal::FindActive;
using key_manager_internal::Transition;

namespace {

StatusOr<TimePoint> CertificateNotAfter(const Bytes& der) {
  SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr cert, ParseCertificate(der));
  return NotAfter(cert.get());
}

}  // namespace

StatusOr<KeyTransitionRecord> KeyManager::Impl::IssueIntermediateLocked(
    Algorithm alg, std::string_view backend, const CaCertificateSpec& spec, std::string_view by,
    std::string_view reason) {
  SIGNET_RETURN_IF_ERROR(Mutate([](Catalogue&) { return OkStatus(); }));
  KeyRecord* root = FindActive(catalogue, Purpose::kX509Ca, CaRole::kRoot);
  if (root == nullptr) {
    return Status(Code::kFailedPrecondition,
                  "no active root CA: run the root ceremony (init-root) first");
  }
  std::string root_kid = root->kid;
  Bytes root_cert = root->cert_der;
  SIGNET_ASSIGN_OR_RETURN(std::shared_ptr<SigningKey> root_key, Load(*root));

  SIGNET_ASSIGN_OR_RETURN(KeyRecord record,
                          NewKey(Purpose::kX509Ca, alg, backend, CaRole::kIntermediate, by));
  StatusOr<Bytes> cert =
      CreateIntermediateCertificate(*root_key, root_cert, PublicKey{record.spki_der}, spec, *clock);
  if (!cert.ok()) {
    return cert.status().WithContext("certifying intermediate '" + record.kid + "' with root '" +
                                     root_kid + "': ");
  }
  record.cert_der = std::move(*cert);
  record.issuer = root_kid;
  SIGNET_ASSIGN_OR_RETURN(record.not_after, CertificateNotAfter(record.cert_der));
  record.history.back().reason = std::string(reason);

  KeyTransitionRecord out{record.kid,      record.purpose,      record.ca_role,
                          std::nullopt,    KeyState::kPrepared, record.history.back().at,
                          std::string(by), std::string(reason)};
  TimePoint not_after = record.not_after;
  SIGNET_RETURN_IF_ERROR(Mutate([&](Catalogue& c) -> Status {
    KeyRecord* issuer = c.Find(root_kid);
    if (issuer == nullptr || issuer->state == KeyState::kDestroyed) {
      return Status(Code::kFailedPrecondition, "root '" + root_kid + "' went away meanwhile");
    }
    if (!issuer->latest_signed_expiry || *issuer->latest_signed_expiry < not_after) {
      issuer->latest_signed_expiry = not_after;
    }
    c.keys.push_back(record);
    return OkStatus();
  }));
  return out;
}

StatusOr<std::vector<KeyTransitionRecord>> KeyManager::InitRoot(Algorithm alg,
                                                                std::string_view backend,
                                                                const CaCertificateSpec& spec,
                                                                std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  SIGNET_ASSIGN_OR_RETURN(KeyRecord record,
                          m.NewKey(Purpose::kX509Ca, alg, backend, CaRole::kRoot, by));
  SIGNET_ASSIGN_OR_RETURN(std::shared_ptr<SigningKey> key, m.Load(record));
  StatusOr<Bytes> cert = CreateRootCertificate(*key, spec, *m.clock);
  if (!cert.ok()) {
    return cert.status().WithContext("self-signing root '" + record.kid + "': ");
  }
  record.cert_der = std::move(*cert);
  SIGNET_ASSIGN_OR_RETURN(record.not_after, CertificateNotAfter(record.cert_der));
  record.history.back().reason = "ceremony";

  std::vector<KeyTransitionRecord> records;
  TimePoint now = m.clock->Now();
  SIGNET_RETURN_IF_ERROR(m.Mutate([&](Catalogue& c) -> Status {
    records.clear();
    KeyRecord* old = FindActive(c, Purpose::kX509Ca, CaRole::kRoot);
    if (old != nullptr) {
      Transition(*old, KeyState::kRetired, now, by, "replaced by a new root", &records);
    }
    KeyRecord fresh = record;
    records.push_back({fresh.kid, fresh.purpose, fresh.ca_role, std::nullopt, KeyState::kPrepared,
                       fresh.history.back().at, std::string(by), "ceremony"});
    Transition(fresh, KeyState::kActive, now, by, "ceremony", &records);
    c.keys.push_back(std::move(fresh));
    return OkStatus();
  }));
  return records;
}

StatusOr<KeyTransitionRecord> KeyManager::IssueIntermediate(Algorithm alg, std::string_view backend,
                                                            const CaCertificateSpec& spec,
                                                            std::string_view by) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->IssueIntermediateLocked(alg, backend, spec, by, "ceremony");
}

}  // namespace signet
