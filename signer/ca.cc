#include "signer/ca.h"

#include "signer/spiffe_id.h"
#include "signer/x509_inspect.h"
#include "signer/x509_sign.h"

namespace signet {
namespace {

StatusOr<ossl::Ptr<X509_NAME, X509_NAME_free>> MakeName(const CaCertificateSpec& spec) {
  if (spec.common_name.empty()) {
    return Status(Code::kInvalidArgument, "CA certificate needs a common name");
  }
  ossl::Ptr<X509_NAME, X509_NAME_free> name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!name || (!spec.organization.empty() && !add("O", spec.organization)) ||
      !add("CN", spec.common_name)) {
    return ossl::Error("X509_NAME_add_entry_by_txt", Code::kInvalidArgument);
  }
  return name;
}

// Builds, signs through the backend and checks one CA certificate. `issuer` is null
// for a self-signed root.
StatusOr<Bytes> MakeCa(SigningKey& signer, X509* issuer, const PublicKey& subject_key,
                       const CaCertificateSpec& spec, const Clock& clock) {
  if (!spec.trust_domain.empty()) {
    SIGNET_RETURN_IF_ERROR(SpiffeId::ValidateTrustDomain(spec.trust_domain));
  }
  if (spec.ttl <= Seconds(0)) {
    return Status(Code::kInvalidArgument, "CA certificate ttl must be positive");
  }
  SIGNET_ASSIGN_OR_RETURN(auto name, MakeName(spec));
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr pkey, ossl::ParsePublicKey(subject_key.spki_der));

  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return ossl::Error("X509_new");
  }
  X509* c = cert.get();
  X509* issuer_cert = issuer != nullptr ? issuer : c;
  TimePoint now = std::chrono::floor<Seconds>(clock.Now());
  TimePoint not_after = now + spec.ttl;
  if (issuer != nullptr) {
    SIGNET_ASSIGN_OR_RETURN(TimePoint issuer_end, NotAfter(issuer));
    not_after = std::min(not_after, issuer_end);
  }
  SIGNET_ASSIGN_OR_RETURN(std::string serial, SetRandomSerial(c));
  SIGNET_RETURN_IF_ERROR(SetValidity(c, now - Seconds(10), not_after));
  if (X509_set_subject_name(c, name.get()) != 1 ||
      X509_set_issuer_name(c, X509_get_subject_name(issuer_cert)) != 1 ||
      X509_set_pubkey(c, pkey.get()) != 1) {
    return ossl::Error("setting CA names and key");
  }

  std::string bc = "critical,CA:TRUE";
  if (spec.path_length >= 0) {
    bc += ",pathlen:" + std::to_string(spec.path_length);
  }
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer_cert, NID_basic_constraints, bc));
  SIGNET_RETURN_IF_ERROR(
      AddExtension(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer_cert, NID_subject_key_identifier, "hash"));
  SIGNET_RETURN_IF_ERROR(
      AddExtension(c, issuer_cert, NID_authority_key_identifier, "keyid:always"));
  if (!spec.trust_domain.empty()) {
    SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer_cert, NID_subject_alt_name,
                                        "URI:" + SpiffeId::TrustDomainId(spec.trust_domain)));
  }

  SIGNET_ASSIGN_OR_RETURN(Bytes der, SignCertificateAndWait(c, signer));

  SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr parsed, ParseCertificate(der));
  SIGNET_RETURN_IF_ERROR(CheckIssuedBy(parsed.get(), issuer != nullptr ? issuer : parsed.get()));
  SIGNET_ASSIGN_OR_RETURN(CertificateFacts facts, InspectCertificate(parsed.get()));
  if (!facts.ca || !facts.basic_constraints_critical || facts.path_length != spec.path_length ||
      facts.key_usage != (KU_KEY_CERT_SIGN | KU_CRL_SIGN) || !facts.key_usage_critical ||
      facts.subject_key_id_hex.empty() || facts.authority_key_id_hex.empty() ||
      facts.serial_hex != serial) {
    return Status(Code::kInternal, "minted CA certificate fails its extension check");
  }
  return der;
}

}  // namespace

StatusOr<Bytes> CreateRootCertificate(SigningKey& key, const CaCertificateSpec& spec,
                                      const Clock& clock) {
  return MakeCa(key, nullptr, key.public_key(), spec, clock);
}

StatusOr<Bytes> CreateIntermediateCertificate(SigningKey& issuer_key, ByteView issuer_cert_der,
                                              const PublicKey& subject_key,
                                              const CaCertificateSpec& spec, const Clock& clock) {
  SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr issuer, ParseCertificate(issuer_cert_der));
  SIGNET_ASSIGN_OR_RETURN(ossl::PkeyPtr issuer_pub,
                          ossl::ParsePublicKey(issuer_key.public_key().spki_der));
  if (EVP_PKEY_eq(X509_get0_pubkey(issuer.get()), issuer_pub.get()) != 1) {
    return Status(Code::kInvalidArgument,
                  "issuer key '" + issuer_key.ref() + "' does not match the issuer certificate");
  }
  return MakeCa(issuer_key, issuer.get(), subject_key, spec, clock);
}

}  // namespace signet
