// SoftHsmToken: a SoftHSM2 token of a test's own, in a fresh temporary directory.
//
// The constructor writes a softhsm2.conf naming a token directory inside the
// temporary directory, points SOFTHSM2_CONF at it (so the module loaded later in
// this process, and every softhsm2-util or pkcs11-tool run by the test, sees this
// token and no system token), and initialises the token with `softhsm2-util
// --init-token --free`. The user PIN is random and also written to a 0600 file.
//
// A missing softhsm2-util or libsofthsm2.so is a test failure, never a skip: the
// constructor throws std::runtime_error saying what is missing.
//
// Thread safety: construct and destroy on one thread. One SoftHsmToken at a time
// per process, since SOFTHSM2_CONF is process-wide and SoftHSM reads it when the
// module is initialised.
#pragma once

#include <string>

#include "tests/support/openssl_cli.h"

namespace signet::testing {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

class SoftHsmToken {
 public:
  explicit SoftHsmToken(std::string label = "signet-test");

  const std::string& label() const { return label_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& conf_path() const { return conf_; }
  const std::string& user_pin() const { return user_pin_; }
  const std::string& so_pin() const { return so_pin_; }

  // A file holding the user PIN, mode 0600.
  const std::string& pin_file() const { return pin_file_; }

  // "pkcs11-tool --module <softhsm> --token-label <label>", for tests to extend.
  std::string Pkcs11Tool() const;

 private:
  std::string label_;
  TempDir dir_;
  std::string conf_;
  std::string user_pin_;
  std::string so_pin_;
  std::string pin_file_;
};

}  // namespace signet::testing
