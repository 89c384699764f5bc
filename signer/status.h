// Status and StatusOr: errors as values across every module boundary.
//
// A Status carries a code a caller can act on, a message that names the
// failing call and the offending value, and, when the error came from a C
// library, the raw code that library returned (a CK_RV or a TSS2_RC) so that
// nothing is lost in translation. Messages never contain secrets: PINs,
// authorization values and private key bytes are not formatted into them.
//
// Thread safety: values; copying and reading from several threads is safe.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace signet {

// What went wrong, in terms a caller can act on.
enum class Code {
  kOk,
  kInvalidArgument,     // bad input: malformed, out of range, not allowed for this key
  kNotFound,            // no such key, token, slot or module
  kPermissionDenied,    // policy refused, or the device refused the operation
  kWrongPin,            // the PIN or authorization value was rejected; never retry
  kPinLocked,           // the token or TPM refuses logins until a custodian acts
  kUnavailable,         // device busy, session lost or restarting: safe to retry
  kDeviceError,         // the device failed; retrying may not help
  kUnsupported,         // the backend or device cannot do this (algorithm, mode)
  kFailedPrecondition,  // the system is not in a state that allows this
  kAlreadyExists,       // a key with this label or id is already there
  kInternal,            // a bug: an invariant did not hold
};

// The stable lower-case name of a code, e.g. "wrong_pin", used in logs and on the wire.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // An error from a C library: `raw_code` is the library's own value (CK_RV, TSS2_RC).
  Status(Code code, std::string message, uint64_t raw_code)
      : code_(code), message_(std::move(message)), raw_code_(raw_code) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::optional<uint64_t> raw_code() const { return raw_code_; }

  // True when the same request may succeed if sent again (kUnavailable).
  bool retryable() const { return code_ == Code::kUnavailable; }

  // Prefixes the message with context, e.g. "loading key 'jwt-1': ".
  Status WithContext(std::string_view context) const;

  // "code_name: message".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::optional<uint64_t> raw_code_;
};

inline Status OkStatus() {
  return Status();
}

std::ostream& operator<<(std::ostream& out, const Status& status);

// Either a value or the error that prevented it. An OK status is not a valid error.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(state_).ok()) {
      state_ = Status(Code::kInternal, "StatusOr constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(state_); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }

  // Precondition: ok().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace signet

// Returns early from the enclosing function when `expr` yields an error Status.
#define SIGNET_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::signet::Status signet_status_ = (expr); \
    if (!signet_status_.ok()) {               \
      return signet_status_;                  \
    }                                         \
  } while (false)

#define SIGNET_CONCAT_INNER_(a, b) a##b
#define SIGNET_CONCAT_(a, b) SIGNET_CONCAT_INNER_(a, b)

// Declares `lhs` from a StatusOr expression, or returns its error.
#define SIGNET_ASSIGN_OR_RETURN(lhs, expr) \
  SIGNET_ASSIGN_OR_RETURN_IMPL_(SIGNET_CONCAT_(signet_or_, __LINE__), lhs, expr)

#define SIGNET_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) {                                    \
    return tmp.status();                              \
  }                                                   \
  lhs = std::move(tmp).value()
