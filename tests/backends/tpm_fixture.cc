// Runs the conformance suite against the TPM backend on a fresh swtpm per test
// case, keys kept as blob files, commands under a salted HMAC session.
#include <sys/stat.h>

#include <stdexcept>

#include "backends/tpm/tpm_backend.h"
#include "tests/backends/conformance/backend_fixture.h"
#include "tests/support/openssl_cli.h"
#include "tests/support/swtpm_process.h"

namespace signet::testing {
namespace {

class TpmFixture : public BackendFixture {
 public:
  TpmFixture() {
    std::string auth = dir_.Write("key-auth", "conformance-auth-value");
    ::chmod(auth.c_str(), 0600);
    TpmBackend::Options options;
    options.tcti = swtpm_.tcti();
    options.key_dir = dir_.path();
    options.key_auth.file = auth;
    auto backend = TpmBackend::Open(options);
    if (!backend.ok()) {
      throw std::runtime_error("TPM backend did not open on swtpm: " + backend.status().ToString());
    }
    backend_ = std::move(backend).value();
  }

  Backend& backend() override { return *backend_; }

  std::vector<Algorithm> algorithms() const override {
    return {Algorithm::kES256, Algorithm::kES384, Algorithm::kRS256, Algorithm::kPS256};
  }

  std::string MissingKeyRef() const override {
    return "tpm:label=absent;blob=" + dir_.path() + "/absent.tpmkey;alg=ES256";
  }

 private:
  SwtpmProcess swtpm_;
  TempDir dir_;
  std::unique_ptr<TpmBackend> backend_;  // last: closed before swtpm is killed
};

}  // namespace

std::unique_ptr<BackendFixture> MakeBackendFixture() {
  return std::make_unique<TpmFixture>();
}

}  // namespace signet::testing
