// The one place where a TSS2_RC becomes a signet::Status.
//
// Every failing ESAPI, TCTI or marshalling call is turned into a Status that
// keeps the raw TSS2_RC (Status::raw_code), names the call, and carries the
// text Tss2_RC_Decode gives for the code:
//   "Esys_Sign: tpm:session(1):authorization failure without DA implications (0x98e)".
// The code is chosen so that callers can act on it: a rejected authorization
// value is kWrongPin (never retried, the TPM counts failures towards a
// dictionary-attack lockout), a lockout is kPinLocked, a lost connection or a
// TPM that was restarted is kUnavailable.
//
// Thread safety: pure functions.
#pragma once

#include <tss2/tss2_common.h>

#include <string_view>

#include "signer/status.h"

namespace signet::tpm {

// The TPM's own response code with the handle, session and parameter number
// removed (TPM2_RC_AUTH_FAIL for 0x98e), or `rc` unchanged for other layers.
TSS2_RC BaseCode(TSS2_RC rc);

// True when `rc` says the connection to the TPM is gone or the TPM was reset, so
// that the ESAPI context must be rebuilt before the next command.
bool IsConnectionLost(TSS2_RC rc);

// Builds the Status for a failed call; `rc` must not be TSS2_RC_SUCCESS.
Status TssError(std::string_view call, TSS2_RC rc);

}  // namespace signet::tpm
