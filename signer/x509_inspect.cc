#include "signer/x509_inspect.h"

#include <openssl/x509v3.h>

#include "signer/ossl.h"
#include "signer/x509_sign.h"

namespace signet {
namespace {

using GeneralNamesPtr = ossl::Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using BasicConstraintsPtr = ossl::Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using AkidPtr = ossl::Ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;

bool IsCritical(X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::string Hex(const ASN1_STRING* s) {
  if (s == nullptr) {
    return "";
  }
  return HexEncode(ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s))));
}

}  // namespace

StatusOr<CertificateFacts> InspectCertificate(X509* cert) {
  CertificateFacts facts;
  if (X509_get_extension_flags(cert) & EXFLAG_INVALID) {
    return Status(Code::kInternal, "certificate has an invalid extension (EXFLAG_INVALID)");
  }

  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    facts.san_count = static_cast<size_t>(sk_GENERAL_NAME_num(names.get()));
    for (size_t i = 0; i < facts.san_count; ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), static_cast<int>(i));
      if (name->type == GEN_URI) {
        const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
        facts.uri_sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                                    static_cast<size_t>(ASN1_STRING_length(uri)));
      }
    }
    facts.san_critical = IsCritical(cert, NID_subject_alt_name);
  }

  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  if (bc) {
    facts.has_basic_constraints = true;
    facts.basic_constraints_critical = IsCritical(cert, NID_basic_constraints);
    facts.ca = bc->ca != 0;
    facts.path_length = bc->pathlen ? ASN1_INTEGER_get(bc->pathlen) : -1;
  }

  facts.has_key_usage = X509_get_ext_by_NID(cert, NID_key_usage, -1) >= 0;
  facts.key_usage_critical = IsCritical(cert, NID_key_usage);
  facts.key_usage = facts.has_key_usage ? X509_get_key_usage(cert) : 0;
  facts.extended_key_usage = X509_get_extended_key_usage(cert);
  if (X509_get_ext_by_NID(cert, NID_ext_key_usage, -1) < 0) {
    facts.extended_key_usage = 0;
  }

  facts.subject_key_id_hex = Hex(X509_get0_subject_key_id(cert));
  facts.authority_key_id_hex = Hex(X509_get0_authority_key_id(cert));
  ossl::BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!serial || BN_is_negative(serial.get()) || BN_is_zero(serial.get())) {
    return Status(Code::kInternal, "certificate serial number is not positive");
  }
  Bytes serial_bytes(static_cast<size_t>(BN_num_bytes(serial.get())));
  BN_bn2bin(serial.get(), serial_bytes.data());
  facts.serial_hex = HexEncode(serial_bytes);

  SIGNET_ASSIGN_OR_RETURN(facts.not_before, NotBefore(cert));
  SIGNET_ASSIGN_OR_RETURN(facts.not_after, NotAfter(cert));
  return facts;
}

Status CheckIssuedBy(X509* cert, X509* issuer) {
  int rc = X509_check_issued(issuer, cert);
  if (rc != X509_V_OK) {
    return Status(Code::kInternal, std::string("certificate does not chain to its issuer: ") +
                                       X509_verify_cert_error_string(rc));
  }
  if (X509_verify(cert, X509_get0_pubkey(issuer)) != 1) {
    return ossl::Error(
        "X509_verify: the certificate signature does not verify with the "
        "issuer's key",
        Code::kDeviceError);
  }
  return OkStatus();
}

}  // namespace signet
