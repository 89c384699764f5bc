// Runs the conformance suite against the PKCS#11 backend on a fresh SoftHSM2 token.
#include <stdexcept>

#include "backends/pkcs11/pkcs11_backend.h"
#include "tests/backends/conformance/backend_fixture.h"
#include "tests/support/softhsm_token.h"

namespace signet::testing {
namespace {

std::unique_ptr<Pkcs11Backend> MakeBackend(const SoftHsmToken& token) {
  Pkcs11Backend::Options options;
  options.module_path = kSoftHsmModule;
  options.token_label = token.label();
  options.pin.file = token.pin_file();
  options.workers = 2;
  auto backend = Pkcs11Backend::Create(options);
  if (!backend.ok()) {
    throw std::runtime_error("cannot open the SoftHSM token: " + backend.status().ToString());
  }
  return std::move(*backend);
}

class SoftHsmFixture : public BackendFixture {
 public:
  SoftHsmFixture() : token_("conformance"), backend_(MakeBackend(token_)) {}

  Backend& backend() override { return *backend_; }

  std::vector<Algorithm> algorithms() const override {
    return {std::begin(kAllAlgorithms), std::end(kAllAlgorithms)};
  }

  std::string MissingKeyRef() const override {
    return "pkcs11:token=conformance;object=absent;id=%de%ad%be%ef;type=private";
  }

 private:
  SoftHsmToken token_;
  std::unique_ptr<Pkcs11Backend> backend_;
};

}  // namespace

std::unique_ptr<BackendFixture> MakeBackendFixture() {
  return std::make_unique<SoftHsmFixture>();
}

}  // namespace signet::testing
