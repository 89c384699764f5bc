// X.509-SVIDs minted by signet's minting code with CA keys kept in a TPM (swtpm),
// the chain checked by the `openssl verify` command line.
//
// MintingEnv (tests/minting/) builds a root and an intermediate CA in the
// backend that the linked fixture provides, here tests/backends/tpm_fixture.cc:
// both CA keys are TPM keys and every certificate signature is a TPM2_Sign.
#include <catch2/catch.hpp>

#include "tests/minting/minting_env.h"

namespace signet::testing {

TEST_CASE("an intermediate CA key in the TPM signs an X.509-SVID that openssl verifies",
          "[tpm][minting]") {
  for (Algorithm ca_alg : {Algorithm::kES256, Algorithm::kPS256}) {
    INFO("CA algorithm " << AlgorithmName(ca_alg));
    MintingEnv env(Algorithm::kES256, Algorithm::kES256, ca_alg);
    REQUIRE(env.fixture().backend().name() == "tpm");

    StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
        Caller{kIdp},
        X509SvidRequest{"spiffe://example.org/agent/refunds", env.MakeCsr("ec"), Seconds(600)});
    INFO(cert.status().ToString());
    REQUIRE(cert.ok());
    REQUIRE(cert->chain_der.size() == 1);
    CHECK(cert->chain_der[0] == env.intermediate_der());

    std::string verdict = env.OpensslVerify(*cert, "svid");
    INFO(verdict);
    CHECK_THAT(verdict, Catch::Contains(": OK"));
  }
}

}  // namespace signet::testing
