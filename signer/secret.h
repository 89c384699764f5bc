// Secret: a PIN or authorization value that never reaches a log, an error
// message or a core dump on purpose.
//
// The bytes are wiped when the object is destroyed. There is no operator<< and
// no implicit conversion to string; code that needs the bytes (a C_Login, a
// TPM2B_AUTH) asks for them with reveal() at the call site.
//
// Thread safety: a value; const access from several threads is safe.
#pragma once

#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret other) noexcept;
  ~Secret();

  bool empty() const { return value_.empty(); }
  std::string_view reveal() const { return value_; }

 private:
  void Wipe();

  std::string value_;
};

// Where a secret comes from. Exactly one of the two is set; the config names the
// source, never the secret itself.
struct SecretSource {
  std::string env_var;  // the name of an environment variable holding the secret
  std::string file;     // a file holding the secret; must not be readable by group or others
};

// Reads a secret from its source. A trailing newline in a file is dropped.
// Fails with kInvalidArgument when neither or both sources are set, when the
// variable is unset or empty, or when the file is readable by group or others
// (the message names the variable or path and the mode, never the value).
StatusOr<Secret> ReadSecret(const SecretSource& source);

}  // namespace signet
