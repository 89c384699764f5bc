#include "tests/support/openssl_cli.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace signet::testing {

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("popen failed for: " + command);
  }
  std::array<char, 4096> buf;
  std::string text;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    text.append(buf.data(), n);
  }
  int status = ::pclose(pipe);
  if (output != nullptr) {
    *output = text;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "signet-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& contents) const {
  std::string file = path_ + "/" + name;
  std::ofstream(file, std::ios::binary) << contents;
  return file;
}

std::string OpensslPublicKeyText(const Bytes& spki_der) {
  TempDir dir;
  std::string der = dir.Write("pub.der", std::string(spki_der.begin(), spki_der.end()));
  std::string text;
  RunCommand("openssl pkey -pubin -inform DER -in " + der + " -text -noout", &text);
  return text;
}

bool OpensslVerifies(const Bytes& spki_der, Algorithm alg, const std::string& message,
                     const Bytes& signature) {
  TempDir dir;
  std::string der = dir.Write("pub.der", std::string(spki_der.begin(), spki_der.end()));
  std::string msg = dir.Write("msg", message);
  std::string sig = dir.Write("sig", std::string(signature.begin(), signature.end()));
  std::string pem = dir.path() + "/pub.pem";
  if (RunCommand("openssl pkey -pubin -inform DER -in " + der + " -out " + pem) != 0) {
    return false;
  }

  std::string command;
  switch (alg) {
    case Algorithm::kEdDSA:
      command = "openssl pkeyutl -verify -pubin -inkey " + pem + " -rawin -in " + msg +
                " -sigfile " + sig;
      break;
    case Algorithm::kES384:
      command = "openssl dgst -sha384 -verify " + pem + " -signature " + sig + " " + msg;
      break;
    case Algorithm::kPS256:
      command =
          "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
          "-verify " +
          pem + " -signature " + sig + " " + msg;
      break;
    case Algorithm::kES256:
    case Algorithm::kRS256:
      command = "openssl dgst -sha256 -verify " + pem + " -signature " + sig + " " + msg;
      break;
  }
  return RunCommand(command) == 0;
}

}  // namespace signet::testing
