// A complete minting setup on one backend, for the minting suite.
//
// MintingEnv takes a BackendFixture (software, SoftHSM, ...) and creates in it:
// a root CA key and self-signed root, an intermediate CA key and certificate,
// JWT keys and a raw signing key; then a Minter over them with the test policy
// below, a FakeClock set to the real time (so external verifiers agree on exp),
// and a deny list. Every key is wrapped in a CountingKey so tests can assert
// that a refused request signed nothing.
//
// Also the external verifiers: python-jwt (Debian's, via /usr/bin/python3) for
// tokens and the `openssl` command line for certificates.
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "signer/minter.h"
#include "tests/backends/conformance/backend_fixture.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {

inline constexpr const char* kIdp = "spiffe://example.org/idp";
inline constexpr const char* kExchange = "spiffe://example.org/exchange";
inline constexpr const char* kApi = "https://api.example.org";

// The policy every minting test runs under.
std::string TestPolicyToml();

// Delegates to a real key and counts the signatures asked of it.
class CountingKey : public SigningKey {
 public:
  explicit CountingKey(std::shared_ptr<SigningKey> inner);
  void Sign(SignRequest request, SignCallback done) override;
  int count() const { return count_.load(); }

 private:
  std::shared_ptr<SigningKey> inner_;
  std::atomic<int> count_{0};
};

class MintingEnv {
 public:
  // `jwt_alg` for the JWT-SVID key, `at_alg` for the access token key, `ca_alg`
  // for root and intermediate; `check_rate` for the Minter's check after signing.
  MintingEnv(Algorithm jwt_alg, Algorithm at_alg, Algorithm ca_alg,
             Seconds intermediate_ttl = Seconds(24 * 3600), CheckRate check_rate = {});

  BackendFixture& fixture() { return *fixture_; }
  Minter& minter() { return *minter_; }
  FakeClock& clock() { return *clock_; }
  DenyList& deny() { return *deny_; }
  const TempDir& dir() const { return dir_; }
  const Bytes& root_der() const { return root_der_; }
  const Bytes& intermediate_der() const { return intermediate_der_; }
  CountingKey& jwt_key() { return *jwt_key_; }
  CountingKey& at_key() { return *at_key_; }
  CountingKey& raw_key() { return *raw_key_; }
  std::shared_ptr<CountingKey> ca_key() { return ca_key_; }

  // Signatures made by every key of the Minter so far.
  int signatures() const;

  // A PEM CSR made by `openssl req` for a new key of `key_type` ("ec", "rsa",
  // "ed25519"), with extra `openssl req` arguments.
  std::string MakeCsr(const std::string& key_type, const std::string& extra = "") const;

  // Writes `der` as PEM and returns the path.
  std::string WritePem(const std::string& name, const Bytes& der) const;

  // What `openssl verify -x509_strict -purpose sslclient` says of a minted SVID, checked
  // against this environment's root with the SVID's chain as untrusted intermediates.
  // `name` keeps the files of several calls apart.
  std::string OpensslVerify(const MintedCertificate& cert, const std::string& name) const;

 private:
  TempDir dir_;
  std::unique_ptr<BackendFixture> fixture_;
  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<DenyList> deny_;
  std::unique_ptr<Minter> minter_;
  Bytes root_der_;
  Bytes intermediate_der_;
  std::shared_ptr<CountingKey> root_key_, ca_key_, jwt_key_, at_key_, raw_key_;
  mutable int csr_counter_ = 0;
};

// Verifies a compact JWS with python-jwt against `key` (SPKI DER), requiring
// `audience`. Returns {"header": ..., "claims": ...}; throws with python's output on failure.
boost::json::object PyJwtVerify(const std::string& token, const Bytes& spki_der, Algorithm alg,
                                const std::string& audience);

// Verifies a JWT-SVID with python-jwt using the key python itself finds in the
// bundle's `keys` by `kid` (PyJWKSet). Returns the claims; throws on failure.
boost::json::object PyJwtVerifyWithJwks(const std::string& token, const std::string& jwks_json,
                                        Algorithm alg, const std::string& audience);

}  // namespace signet::testing
