#include "signer/secret.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace signet {

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
  other.Wipe();
}

Secret& Secret::operator=(Secret other) noexcept {
  Wipe();
  value_.swap(other.value_);
  return *this;
}

Secret::~Secret() {
  Wipe();
}

void Secret::Wipe() {
  if (!value_.empty()) {
    OPENSSL_cleanse(value_.data(), value_.size());
  }
  value_.clear();
}

StatusOr<Secret> ReadSecret(const SecretSource& source) {
  if (source.env_var.empty() == source.file.empty()) {
    return Status(Code::kInvalidArgument,
                  "a secret needs exactly one source: an environment variable or a file");
  }

  if (!source.env_var.empty()) {
    const char* value = std::getenv(source.env_var.c_str());
    if (value == nullptr || *value == '\0') {
      return Status(Code::kInvalidArgument,
                    "environment variable " + source.env_var + " is unset or empty");
    }
    return Secret(value);
  }

  struct stat st;
  if (stat(source.file.c_str(), &st) != 0) {
    return Status(Code::kNotFound, "secret file " + source.file + " cannot be read");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return Status(Code::kInvalidArgument, "secret file " + source.file + " has mode " + mode +
                                              "; it must not be readable by group or others "
                                              "(chmod 600)");
  }
  std::ifstream in(source.file, std::ios::binary);
  std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  Secret secret(value);
  OPENSSL_cleanse(value.data(), value.capacity());
  if (secret.empty()) {
    return Status(Code::kInvalidArgument, "secret file " + source.file + " is empty");
  }
  return secret;
}

}  // namespace signet
