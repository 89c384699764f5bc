#include "tests/support/softhsm_token.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace signet::testing {

namespace {

std::string RandomDigits(size_t n) {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 9);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>('0' + digit(device)));
  }
  return out;
}

}  // namespace

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  if (!std::filesystem::exists(kSoftHsmModule)) {
    throw std::runtime_error(std::string("SoftHSM2 module ") + kSoftHsmModule +
                             " is missing: install the softhsm2 package (tools/deps.sh)");
  }
  if (RunCommand("command -v softhsm2-util") != 0) {
    throw std::runtime_error("softhsm2-util is missing: install the softhsm2 package");
  }

  std::string tokens = dir_.path() + "/tokens";
  std::filesystem::create_directory(tokens);
  conf_ = dir_.Write("softhsm2.conf", "directories.tokendir = " + tokens +
                                          "\nobjectstore.backend = file\nlog.level = ERROR\n"
                                          "slots.removable = false\n");
  ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);

  user_pin_ = RandomDigits(8);
  so_pin_ = RandomDigits(8);
  pin_file_ = dir_.Write("user.pin", user_pin_ + "\n");
  ::chmod(pin_file_.c_str(), 0600);

  std::string output;
  int rc = RunCommand("softhsm2-util --init-token --free --label '" + label_ + "' --so-pin " +
                          so_pin_ + " --pin " + user_pin_,
                      &output);
  if (rc != 0) {
    throw std::runtime_error("softhsm2-util --init-token failed (" + std::to_string(rc) +
                             "): " + output);
  }
}

std::string SoftHsmToken::Pkcs11Tool() const {
  return std::string("pkcs11-tool --module ") + kSoftHsmModule + " --token-label '" + label_ + "'";
}

}  // namespace signet::testing
