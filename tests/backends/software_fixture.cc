// Runs the conformance suite against the software backend, keys kept as files.
#include "backends/software/software_backend.h"
#include "tests/backends/conformance/backend_fixture.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {
namespace {

class SoftwareFixture : public BackendFixture {
 public:
  // SIGNET_SOFTWARE_INLINE: the same suite with signatures made inside Sign().
#ifdef SIGNET_SOFTWARE_INLINE
  SoftwareFixture() : backend_(SoftwareBackend::Options{dir_.path(), 0, 16}) {}
#else
  SoftwareFixture() : backend_(SoftwareBackend::Options{dir_.path(), 2, 16}) {}
#endif

  Backend& backend() override {
    return backend_;
  }

  std::vector<Algorithm> algorithms() const override {
    return {std::begin(kAllAlgorithms), std::end(kAllAlgorithms)};
  }

  std::string MissingKeyRef() const override {
    return "software:label=absent;alg=ES256";
  }

 private:
  TempDir dir_;
  SoftwareBackend backend_;
};

}  // namespace

std::unique_ptr<BackendFixture> MakeBackendFixture() {
  return std::make_unique<SoftwareFixture>();
}

}  // namespace signet::testing
