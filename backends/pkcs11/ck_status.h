// The one place where a PKCS#11 return value (CK_RV) becomes a signet Status.
//
// The Status keeps the raw CK_RV as raw_code() and names the failing call and
// the code: "C_Sign: CKR_SESSION_HANDLE_INVALID". Codes a caller can act on get
// codes of their own: a rejected PIN is kWrongPin (never retried: retries lock
// the token), a locked PIN is kPinLocked, a lost session, a logged-out token or
// an absent device is kUnavailable (reopen the session, log in again, retry).
//
// Thread safety: pure functions.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet::pkcs11 {

// "CKR_PIN_INCORRECT", or "CKR_0x000001a0" for a code this table does not know.
std::string CkrName(CK_RV rv);

// The signet code for a CK_RV other than CKR_OK.
Code CodeFor(CK_RV rv);

// OK for CKR_OK; otherwise "<call>: <CKR name>" with the raw code kept.
Status CkStatus(std::string_view call, CK_RV rv);

// True when reopening the session and logging in again may make the call succeed:
// a closed or invalid session, a logged-out token, a removed or failed device, or an
// object handle that died with the sessions.
bool NeedsNewSession(CK_RV rv);

}  // namespace signet::pkcs11
