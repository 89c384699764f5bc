#include "backends/tpm/tss_status.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdio>
#include <string>

namespace signet::tpm {

TSS2_RC BaseCode(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) {
    return rc;
  }
  if ((rc & TPM2_RC_FMT1) != 0) {
    return rc & (TPM2_RC_FMT1 | 0x3f);  // drop the handle / session / parameter number
  }
  return rc & (TPM2_RC_WARN | TPM2_RC_VER1 | 0x7f);
}

bool IsConnectionLost(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
    TSS2_RC base = BaseCode(rc);
    return base == TPM2_RC_INITIALIZE || base == TPM2_RC_REBOOT || base == TPM2_RC_REFERENCE_S0 ||
           base == TPM2_RC_REFERENCE_H0;
  }
  switch (rc & ~TSS2_RC_LAYER_MASK) {
    case TSS2_BASE_RC_NO_CONNECTION:
    case TSS2_BASE_RC_IO_ERROR:
    case TSS2_BASE_RC_TRY_AGAIN:
    case TSS2_BASE_RC_BAD_SEQUENCE:
    case TSS2_BASE_RC_MALFORMED_RESPONSE:
    case TSS2_BASE_RC_INSUFFICIENT_RESPONSE:
    case TSS2_BASE_RC_RSP_AUTH_FAILED:
      return true;
    default:
      return false;
  }
}

namespace {

Code CodeFor(TSS2_RC rc) {
  if (IsConnectionLost(rc)) {
    return Code::kUnavailable;
  }
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) {
    TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
    if (base == TSS2_BASE_RC_BAD_VALUE || base == TSS2_BASE_RC_BAD_REFERENCE ||
        base == TSS2_BASE_RC_BAD_SIZE) {
      return Code::kInvalidArgument;
    }
    if (base == TSS2_BASE_RC_NOT_SUPPORTED || base == TSS2_BASE_RC_NOT_IMPLEMENTED) {
      return Code::kUnsupported;
    }
    return Code::kDeviceError;
  }
  switch (BaseCode(rc)) {
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return Code::kWrongPin;
    case TPM2_RC_LOCKOUT:
      return Code::kPinLocked;
    case TPM2_RC_RETRY:
    case TPM2_RC_YIELDED:
    case TPM2_RC_TESTING:
    case TPM2_RC_NV_RATE:
    case TPM2_RC_NV_UNAVAILABLE:
    case TPM2_RC_OBJECT_MEMORY:
    case TPM2_RC_SESSION_MEMORY:
    case TPM2_RC_MEMORY:
      return Code::kUnavailable;
    case TPM2_RC_HANDLE:
      return Code::kNotFound;
    case TPM2_RC_NV_DEFINED:
      return Code::kAlreadyExists;
    case TPM2_RC_KEY_SIZE:
    case TPM2_RC_CURVE:
    case TPM2_RC_SCHEME:
    case TPM2_RC_ASYMMETRIC:
    case TPM2_RC_HASH:
    case TPM2_RC_COMMAND_CODE:
      return Code::kUnsupported;
    case TPM2_RC_VALUE:
    case TPM2_RC_SIZE:
      return Code::kInvalidArgument;
    case TPM2_RC_ATTRIBUTES:
    case TPM2_RC_HIERARCHY:
    case TPM2_RC_DISABLED:
      return Code::kPermissionDenied;
    default:
      return Code::kDeviceError;
  }
}

}  // namespace

Status TssError(std::string_view call, TSS2_RC rc) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%x", static_cast<unsigned>(rc));
  std::string message(call);
  message += ": ";
  message += Tss2_RC_Decode(rc);
  message += " (";
  message += hex;
  message += ")";
  return Status(CodeFor(rc), std::move(message), rc);
}

}  // namespace signet::tpm
