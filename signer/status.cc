#include "signer/status.h"

namespace signet {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kWrongPin:
      return "wrong_pin";
    case Code::kPinLocked:
      return "pin_locked";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeviceError:
      return "device_error";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) {
    return *this;
  }
  Status out = *this;
  out.message_ = std::string(context) + message_;
  return out;
}

std::string Status::ToString() const {
  if (ok()) {
    return "ok";
  }
  return std::string(CodeName(code_)) + ": " + message_;
}

std::ostream& operator<<(std::ostream& out, const Status& status) {
  return out << status.ToString();
}

}  // namespace signet
