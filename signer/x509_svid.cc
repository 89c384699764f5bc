#include "signer/x509_svid.h"

#include <algorithm>

#include "signer/x509_inspect.h"
#include "signer/x509_sign.h"

namespace signet {

StatusOr<UnsignedCertificate> BuildSvid(const SvidTemplate& tmpl, X509* issuer) {
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return ossl::Error("X509_new");
  }
  UnsignedCertificate out;
  SIGNET_ASSIGN_OR_RETURN(out.serial_hex, SetRandomSerial(cert.get()));
  SIGNET_RETURN_IF_ERROR(SetValidity(cert.get(), tmpl.not_before, tmpl.not_after));

  ossl::Ptr<X509_NAME, X509_NAME_free> subject(X509_NAME_new());
  if (!subject ||
      X509_NAME_add_entry_by_txt(subject.get(), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("signet"), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) {
    return ossl::Error("setting SVID names");
  }
  SIGNET_RETURN_IF_ERROR(SetSubjectPublicKeyInfo(cert.get(), tmpl.subject_key));

  X509* c = cert.get();
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_basic_constraints, "critical,CA:FALSE"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_key_usage, "critical,digitalSignature"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_ext_key_usage, "serverAuth,clientAuth"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_subject_key_identifier, "hash"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_authority_key_identifier, "keyid:always"));
  SIGNET_RETURN_IF_ERROR(AddExtension(c, issuer, NID_subject_alt_name, "URI:" + tmpl.spiffe_id));
  out.cert = std::move(cert);
  return out;
}

Status CheckSvid(ByteView der, ByteView signed_tbs, X509* cert, X509* issuer,
                 const SignatureVerifier& issuer_key, const SvidTemplate& tmpl,
                 const std::string& serial_hex) {
  auto fail = [](const std::string& what) {
    return Status(Code::kInternal, "minted X.509-SVID fails its check: " + what);
  };
  auto same = [](ByteView a, ByteView b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  };

  // The bytes released are the bytes signed, and the object inspected below encodes to them.
  SIGNET_ASSIGN_OR_RETURN(CertificateParts parts, SplitCertificate(der));
  SIGNET_ASSIGN_OR_RETURN(Bytes encoded_tbs, TbsBytes(cert));
  if (!same(parts.tbs, signed_tbs) || !same(parts.tbs, encoded_tbs)) {
    return fail("the certificate's TBSCertificate is not the one that was signed");
  }
  Status signature = issuer_key.Verify(
      SignRequest{Bytes(parts.tbs.begin(), parts.tbs.end()), false, SignatureFormat::kDer},
      parts.signature);
  if (!signature.ok()) {
    return Status(
        Code::kDeviceError,
        "the certificate signature does not verify with the issuer's key: " + signature.message());
  }
  int issued = X509_check_issued(issuer, cert);
  if (issued != X509_V_OK) {
    return fail(std::string("certificate does not chain to its issuer: ") +
                X509_verify_cert_error_string(issued));
  }
  SIGNET_ASSIGN_OR_RETURN(CertificateFacts facts, InspectCertificate(cert));

  if (facts.san_count != 1 || facts.uri_sans.size() != 1 || facts.uri_sans[0] != tmpl.spiffe_id) {
    return fail("subjectAltName is not exactly the URI " + tmpl.spiffe_id);
  }
  if (!facts.has_basic_constraints || !facts.basic_constraints_critical || facts.ca) {
    return fail("basicConstraints is not critical CA=false");
  }
  if (!facts.has_key_usage || !facts.key_usage_critical ||
      facts.key_usage != KU_DIGITAL_SIGNATURE) {
    return fail("keyUsage is not critical digitalSignature only");
  }
  if (facts.extended_key_usage != (XKU_SSL_SERVER | XKU_SSL_CLIENT)) {
    return fail("extendedKeyUsage is not serverAuth and clientAuth");
  }
  if (facts.subject_key_id_hex.empty() || facts.authority_key_id_hex != SubjectKeyIdHex(issuer)) {
    return fail("key identifiers are missing or do not name the issuer");
  }
  if (facts.serial_hex != serial_hex) {
    return fail("serial number changed");
  }
  if (facts.not_before != tmpl.not_before || facts.not_after != tmpl.not_after) {
    return fail("validity differs from what was authorised");
  }
  SIGNET_ASSIGN_OR_RETURN(TimePoint issuer_not_after, NotAfter(issuer));
  if (facts.not_after > issuer_not_after) {
    return fail("notAfter is later than the issuing CA's");
  }
  if (!SamePublicKeyInfo(X509_get_X509_PUBKEY(cert), tmpl.subject_key)) {
    return fail("public key is not the CSR's");
  }
  return OkStatus();
}

}  // namespace signet
