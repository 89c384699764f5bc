// Shared pieces of the lifecycle tests: a Minter wired to a KeyManager on a
// fake clock, a permissive policy for one caller, and a check of JWTs by PyJWT
// (/usr/bin/python3 with the Debian python3-jwt), which signet did not write.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/software/software_backend.h"
#include "signer/deny_list.h"
#include "signer/key_manager.h"
#include "signer/minter.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {

inline constexpr const char* kCaller = "spiffe://example.org/idp";
inline constexpr const char* kAudience = "https://api.example.org";

// 2026-01-01T00:00:00Z: tests start their fake clocks here.
TimePoint TestEpoch();

// A grant for kCaller: every minting operation, any subject, actor and audience of
// example.org, max TTL `ttl` for each.
std::shared_ptr<const Policy> PermissivePolicy(Seconds ttl);

// A Minter, a KeyManager over a FileCatalogueStore in a temporary state
// directory, and backends; the Minter reports issued credentials to the KeyManager.
struct LifecycleRig {
  explicit LifecycleRig(KeyManager::Options options, std::vector<Backend*> extra_backends = {},
                        Seconds max_ttl = Seconds(600));

  // A fresh KeyManager over the same state directory and backends (a restart).
  std::unique_ptr<KeyManager> Reopen();

  TempDir state;
  std::shared_ptr<FakeClock> clock;
  std::shared_ptr<DenyList> deny;
  SoftwareBackend software;
  std::vector<Backend*> backends;
  KeyManager::Options options;
  std::shared_ptr<FileCatalogueStore> store;
  std::unique_ptr<Minter> minter;
  std::unique_ptr<KeyManager> keys;
};

// One token to check against a JWKS at a (fake) instant.
struct JwtCheck {
  std::string token;
  std::string jwks;
  int64_t now = 0;
  std::string label;  // named in the failure report
};

// Runs PyJWT on every check: finds the token's kid in the JWKS, verifies the
// signature and audience, and requires exp > now. Returns one line per failing
// check (empty: all verified). Throws when python cannot run at all.
std::vector<std::string> PyJwtFailures(const std::vector<JwtCheck>& checks);

// The "kid" of a compact JWS header.
std::string KidOf(const std::string& token);

inline const Status& StatusOf(const Status& s) {
  return s;
}
template <typename T>
const Status& StatusOf(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace signet::testing

// REQUIRE that a Status or StatusOr is OK, reporting its error when it is not.
#define REQUIRE_OK(expr)                                          \
  do {                                                            \
    const auto& signet_result_ = (expr);                          \
    INFO(::signet::testing::StatusOf(signet_result_).ToString()); \
    REQUIRE(signet_result_.ok());                                 \
  } while (false)
