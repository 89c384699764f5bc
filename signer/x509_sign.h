// Signing an X.509 certificate with a key that lives in a backend.
//
// OpenSSL's X509_sign needs the private key in process memory, which signet
// never has. Instead: PrepareCertificateSignature writes the signature
// AlgorithmIdentifier into the TBS and the outer certificate, TbsBytes gives the
// DER of the TBSCertificate to sign through SigningKey::Sign (ECDSA in DER form),
// and AttachSignature stores the signature and returns the finished certificate.
//
// Also the small pieces every certificate builder needs: serial numbers, times,
// extensions by config string, the algorithm of a public key.
//
// Thread safety: free functions; an X509 object must not be shared while edited.
#pragma once

#include <openssl/x509.h>

#include <string>

#include "signer/algorithm.h"
#include "signer/backend.h"
#include "signer/clock.h"
#include "signer/ossl.h"
#include "signer/status.h"

namespace signet {

// Sets the signature algorithm (with RSASSA-PSS parameters for PS256) in both
// places a certificate carries it.
Status PrepareCertificateSignature(X509* cert, Algorithm alg);

// The DER encoding of the TBSCertificate, re-encoded after any edit.
StatusOr<Bytes> TbsBytes(X509* cert);

// Stores `signature` (DER for ECDSA) and returns the DER of the whole certificate.
StatusOr<Bytes> AttachSignature(X509* cert, ByteView signature);

// Signs `cert` with `key`, waiting for the backend. For ceremonies and tools.
StatusOr<Bytes> SignCertificateAndWait(X509* cert, SigningKey& key);

// A random positive 128-bit serial number (first byte non-zero); returns it as hex.
StatusOr<std::string> SetRandomSerial(X509* cert);

// Sets notBefore and notAfter.
Status SetValidity(X509* cert, TimePoint not_before, TimePoint not_after);

// notAfter of a certificate as a time point.
StatusOr<TimePoint> NotAfter(const X509* cert);
StatusOr<TimePoint> NotBefore(const X509* cert);

// Adds an extension from an OpenSSL config value, e.g. (NID_key_usage,
// "critical,keyCertSign,cRLSign"), with `issuer` and `cert` as context.
Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value);

// The JOSE algorithm whose key family and size match a public key (RS256 for
// any RSA key); used where only the family matters, e.g. for JWK members.
StatusOr<Algorithm> AlgorithmForKey(EVP_PKEY* key);

// Parses a DER certificate.
StatusOr<ossl::X509Ptr> ParseCertificate(ByteView der);

// Copies a SubjectPublicKeyInfo (algorithm, parameters, key bits) into `cert` as it
// is. Unlike X509_set_pubkey, no key is encoded or decoded: in OpenSSL 3.0 that round
// trip goes through the provider encoder and decoder and costs more than signing.
Status SetSubjectPublicKeyInfo(X509* cert, const X509_PUBKEY* spki);

// True when two SubjectPublicKeyInfo carry the same algorithm, parameters and key bits.
bool SamePublicKeyInfo(const X509_PUBKEY* a, const X509_PUBKEY* b);

// The three elements of a DER Certificate, as views into it: the TBSCertificate
// (tag and length included, the bytes that were signed), and the content of the
// signatureValue BIT STRING (unused-bits byte removed). kInternal when `der` is not
// exactly one SEQUENCE of a SEQUENCE, an AlgorithmIdentifier and a BIT STRING.
struct CertificateParts {
  ByteView tbs;
  ByteView signature;
};
StatusOr<CertificateParts> SplitCertificate(ByteView der);

// PEM text of a DER certificate.
std::string CertificatePem(ByteView der);

// Lower-case hex of a certificate's subject key identifier; empty when absent.
std::string SubjectKeyIdHex(const X509* cert);

}  // namespace signet
