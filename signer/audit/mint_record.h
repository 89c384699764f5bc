// Audit records for what the Minter did: the bridge between signer/minter.h and
// the audit log, so that the signing path appends one record per credential or
// refusal without knowing the record's layout.
//
// Only identifiers and a SHA-256 of the returned bytes are kept: never the token,
// the certificate body or the signature itself.
//
// Thread safety: pure functions.
#pragma once

#include "signer/audit/record.h"
#include "signer/bytes.h"
#include "signer/minter.h"
#include "signer/status.h"

namespace signet::audit {

// The record for a credential the Minter issued. `returned` is what goes back to
// the caller: the compact JWS, the certificate DER, or the raw signature.
AuditRecord RecordForMint(const AuditFields& fields, ByteView returned);

// The record for a refused request: `requested` holds what the request named
// (caller, operation, subject, audiences, actors; no jti or serial) and `why` the
// refusal, whose message names no secret (a Status never does).
AuditRecord RecordForRefusal(const AuditFields& requested, const Status& why);

}  // namespace signet::audit
