// Certificates in PEM files, as the tools read and write them.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "signer/bytes.h"
#include "signer/status.h"

namespace signet {

// Every CERTIFICATE block of a PEM file, as DER, in file order. Fails naming the file when
// it cannot be read, holds no certificate or a block does not parse.
StatusOr<std::vector<Bytes>> ReadCertificatesPem(const std::string& path);

// One certificate as a PEM block ending in a newline.
std::string CertificateToPem(ByteView der);

// A DER SubjectPublicKeyInfo as a PUBLIC KEY PEM block ending in a newline.
std::string PublicKeyToPem(ByteView spki_der);

// True when the certificate's issuer equals its subject and its own key verifies it.
bool IsSelfSigned(ByteView der);

}  // namespace signet
