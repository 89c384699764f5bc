// Test helpers that ask the `openssl` command line, not signet's code, whether a
// key or signature is what it claims to be.
#pragma once

#include <string>
#include <vector>

#include "signer/algorithm.h"
#include "signer/bytes.h"

namespace signet::testing {

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output = nullptr);

// A fresh directory under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

// `openssl pkey -text` of a DER SubjectPublicKeyInfo.
std::string OpensslPublicKeyText(const Bytes& spki_der);

// True when `openssl` accepts `signature` (DER for ECDSA) over `message`.
bool OpensslVerifies(const Bytes& spki_der, Algorithm alg, const std::string& message,
                     const Bytes& signature);

}  // namespace signet::testing
